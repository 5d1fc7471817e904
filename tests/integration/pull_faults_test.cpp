// Pulls through a registry that misbehaves: tests/fixtures/fault_proxy.py
// sits between the daemon and a real registry (Debian's docker-registry on
// 127.0.0.1) and breaks the layer blob's requests as each test says. The
// daemon reaches it as "faulty.test" through a hosts.toml, so a message
// that names 127.0.0.1:<port> names the host it talked to, not only the
// image reference. Every failed pull must end with the right gRPC code, a
// message naming the host and the blob, no layer directory of the blob, no
// temporary directory under <root> and no image; a fault that clears on a
// retry must end in a pull that works. Layer limits (image.max_layer_bytes,
// image.min_free_bytes) are checked here too.

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include "support/cri_client.hpp"
#include "support/fault_proxy.hpp"
#include "support/registry_fixture.hpp"
#include "support/ringcri_process.hpp"

using namespace ringcri::testing;
namespace v1 = runtime::v1;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* registry_name = "faulty.test";
const std::string image = std::string(registry_name) + "/busybox:1";

void skip_without_fixtures() {
  auto why = registry_fixture::unavailable_reason();
  if (!why.empty()) {
    std::cout << "SKIP: " << why << "\n";
    std::exit(77);
  }
}

registry_fixture& plain_registry() {
  skip_without_fixtures();
  static registry_fixture r("plain", "busybox");
  return r;
}

// A registry whose pulls need a bearer token, granted to anonymous pulls.
registry_fixture& token_registry() {
  skip_without_fixtures();
  // Static, so that it is stopped at exit.
  static std::unique_ptr<registry_fixture> r = [] {
    ::setenv("TOKEN_ANONYMOUS_PULL", "1", 1);
    auto made = std::make_unique<registry_fixture>("token", "busybox");
    ::unsetenv("TOKEN_ANONYMOUS_PULL");
    return made;
  }();
  return *r;
}

fault_proxy& proxy() {
  static fault_proxy p("http://" + plain_registry().host());
  return p;
}

fault_proxy& tls_proxy() {
  static fault_proxy p("http://" + plain_registry().host(), true);
  return p;
}

fault_proxy& token_proxy() {
  static fault_proxy p("http://" + token_registry().host());
  return p;
}

const json& busybox_layer(const registry_fixture& reg) {
  return reg.image("busybox:1").at("layers")[0];
}
std::string layer_digest(const registry_fixture& reg) { return busybox_layer(reg).at("digest"); }

// A daemon whose "faulty.test" is the proxy, with `image_table` as the
// config's [image] table.
struct faulty_node {
  temp_dir conf{"ringcri-faults-conf"};
  fs::path config;
  ringcri_process daemon;
  cri_client client;

  faulty_node(const fault_proxy& p, const std::string& image_table = "")
      : config(write_config(conf, p, image_table)),
        daemon({"--config", config.string()}),
        client(daemon.socket(), std::chrono::minutes(3)) {}

  static fs::path write_config(const temp_dir& conf, const fault_proxy& p,
                               const std::string& image_table) {
    auto hosts = conf.path() / "certs.d" / registry_name;
    fs::create_directories(hosts);
    fs::create_directories(conf.path() / "net.d");
    std::ofstream toml(hosts / "hosts.toml");
    toml << "server = \"" << p.scheme() << "://" << p.host() << "\"\n";
    if (!p.ca().empty()) toml << "ca = \"" << p.ca().string() << "\"\n";
    auto path = conf.path() / "ringcri.toml";
    std::ofstream(path) << "[registry]\nconfig_path = \"" << (conf.path() / "certs.d").string()
                        << "\"\n"
                        << "[cni]\nconf_dir = \"" << (conf.path() / "net.d").string() << "\"\n"
                        << "[image]\n"
                        << image_table << "\n";
    return path;
  }

  grpc::Status pull(std::string* image_ref = nullptr) {
    v1::PullImageRequest req;
    req.mutable_image()->set_image(image);
    v1::PullImageResponse resp;
    auto st = client.image_call(&v1::ImageService::Stub::PullImage, req, &resp);
    if (image_ref) *image_ref = resp.image_ref();
    return st;
  }

  int images() {
    v1::ListImagesResponse list;
    REQUIRE(client.image_call(&v1::ImageService::Stub::ListImages, v1::ListImagesRequest{}, &list)
                .ok());
    return list.images_size();
  }

  // Nothing of a failed pull: no image, no layer dir of its diff id, no
  // temporary directory or file anywhere under <root>.
  void check_nothing_left(const registry_fixture& reg) {
    CHECK(images() == 0);
    std::string diff_id = busybox_layer(reg).at("diff_id");
    CHECK_FALSE(fs::exists(daemon.layer_path(diff_id)));
    fs::path tmp = daemon.layers_tmp();
    CHECK((!fs::exists(tmp) || fs::is_empty(tmp)));
    for (const auto& e : fs::recursive_directory_iterator(daemon.root())) {
      std::string name = e.path().filename().string();
      INFO(e.path());
      CHECK(name.find(".tmp-") == std::string::npos);
      CHECK_FALSE(name.starts_with("w-"));  // a layer writer's directory
    }
  }

  // The pull worked: the image is listed and its layer is in the store.
  void check_pulled(const registry_fixture& reg, const grpc::Status& st,
                    const std::string& image_ref) {
    INFO(st.error_message());
    REQUIRE(st.ok());
    CHECK(image_ref == reg.image("busybox:1").at("image_id"));
    CHECK(images() == 1);
    std::string diff_id = busybox_layer(reg).at("diff_id");
    const fs::path layer = daemon.layer_path(diff_id);
    CHECK(fs::exists(layer));
    if (fs::is_directory(layer)) CHECK(fs::exists(layer / "bin" / "busybox"));
  }
};

// The failure names the host the daemon talked to and the blob.
void check_names(const grpc::Status& st, const fault_proxy& p, const registry_fixture& reg) {
  INFO(st.error_message());
  CHECK_THAT(st.error_message(), Catch::Contains(p.host()));
  CHECK_THAT(st.error_message(), Catch::Contains(layer_digest(reg)));
}

json rule(const registry_fixture& reg, const std::string& fault, json params = json::object()) {
  params["match"] = "/blobs/" + layer_digest(reg);
  params["fault"] = fault;
  return params;
}

}  // namespace

TEST_CASE("a connection dropped mid-blob is resumed from where it broke and the pull succeeds") {
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  std::int64_t half = busybox_layer(reg).at("size").get<std::int64_t>() / 2;
  p.set_rules(json::array({rule(reg, "drop", {{"after", half}, {"times", 1}})}));
  faulty_node node(p);
  std::string id;
  auto st = node.pull(&id);
  node.check_pulled(reg, st, id);
  auto tries = p.requests_to("/blobs/" + layer_digest(reg));
  REQUIRE(tries.size() == 2);
  CHECK(tries[0]["range"].is_null());
  CHECK(tries[1]["range"] == "bytes=" + std::to_string(half) + "-");
}

TEST_CASE(
    "a connection dropped on every try fails UNAVAILABLE after three tries and leaves nothing") {
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  std::int64_t piece = busybox_layer(reg).at("size").get<std::int64_t>() / 8;
  p.set_rules(json::array({rule(reg, "drop", {{"after", piece}})}));
  faulty_node node(p);
  auto st = node.pull();
  CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
  check_names(st, p, reg);
  CHECK_THAT(st.error_message(), Catch::Contains("dropped") && Catch::Contains("3 tries"));
  CHECK(p.requests_to("/blobs/" + layer_digest(reg)).size() == 3);
  node.check_nothing_left(reg);
}

TEST_CASE(
    "a blob whose bytes do not match its digest fails FAILED_PRECONDITION and leaves nothing") {
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  p.set_rules(json::array({rule(reg, "corrupt")}));
  faulty_node node(p);
  auto st = node.pull();
  CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  check_names(st, p, reg);
  CHECK_THAT(st.error_message(), Catch::Contains("digest mismatch"));
  // Wrong bytes are not fetched again: they would come back the same.
  CHECK(p.requests_to("/blobs/" + layer_digest(reg)).size() == 1);
  node.check_nothing_left(reg);
}

TEST_CASE("a blob shorter than its descriptor fails FAILED_PRECONDITION and leaves nothing") {
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  p.set_rules(json::array({rule(reg, "short", {{"cut", 1000}})}));
  faulty_node node(p);
  auto st = node.pull();
  CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  check_names(st, p, reg);
  CHECK_THAT(st.error_message(), Catch::Contains("its descriptor says"));
  node.check_nothing_left(reg);
}

TEST_CASE("a blob longer than its descriptor fails FAILED_PRECONDITION and leaves nothing") {
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  p.set_rules(json::array({rule(reg, "long", {{"extra", 1000}})}));
  faulty_node node(p);
  auto st = node.pull();
  CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  check_names(st, p, reg);
  CHECK_THAT(st.error_message(), Catch::Contains("more than the"));
  node.check_nothing_left(reg);
}

TEST_CASE("one 503 is retried and the pull succeeds") {
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  p.set_rules(json::array({rule(reg, "status", {{"status", 503}, {"times", 1}})}));
  faulty_node node(p);
  std::string id;
  auto st = node.pull(&id);
  node.check_pulled(reg, st, id);
  CHECK(p.requests_to("/blobs/" + layer_digest(reg)).size() == 2);
}

TEST_CASE("a 500 on every try fails UNAVAILABLE after three tries and leaves nothing") {
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  p.set_rules(json::array({rule(reg, "status", {{"status", 500}})}));
  faulty_node node(p);
  auto st = node.pull();
  CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
  check_names(st, p, reg);
  CHECK_THAT(st.error_message(), Catch::Contains("HTTP 500") && Catch::Contains("3 tries"));
  CHECK(p.requests_to("/blobs/" + layer_digest(reg)).size() == 3);
  node.check_nothing_left(reg);
}

TEST_CASE("a 429 with Retry-After is waited out and the pull succeeds") {
  // The proxy answers 429 until the Retry-After it gave has passed: a
  // client that came back sooner would be refused again, three times.
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  p.set_rules(json::array({rule(reg, "rate_limit", {{"retry_after", 1}})}));
  faulty_node node(p);
  std::string id;
  auto st = node.pull(&id);
  node.check_pulled(reg, st, id);
  auto tries = p.requests_to("/blobs/" + layer_digest(reg));
  REQUIRE(tries.size() == 2);
  CHECK(tries[0]["fault"] == "rate_limit");
  CHECK(tries[1]["fault"].is_null());
}

TEST_CASE("a 429 asking to wait longer than the cap fails UNAVAILABLE at once and leaves nothing") {
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  p.set_rules(json::array({rule(reg, "status", {{"status", 429}, {"retry_after", "3600"}})}));
  faulty_node node(p);
  auto st = node.pull();
  CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
  check_names(st, p, reg);
  CHECK_THAT(st.error_message(), Catch::Contains("HTTP 429") && Catch::Contains("3600 s"));
  CHECK(p.requests_to("/blobs/" + layer_digest(reg)).size() == 1);
  node.check_nothing_left(reg);
}

TEST_CASE("a token endpoint that fails mid-pull gives UNAVAILABLE naming it and the blob") {
  // The registry refuses the token it gave when the layer is asked for (as
  // when a token expires mid-pull); every new token request then fails.
  auto& reg = token_registry();
  auto& p = token_proxy();
  p.reset();
  p.set_rules(
      json::array({rule(reg, "unauthorized", {{"times", 1}}),
                   {{"match", "/token"}, {"fault", "status"}, {"status", 503}, {"skip", 1}}}));
  faulty_node node(p);
  auto st = node.pull();
  CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
  check_names(st, p, reg);
  CHECK_THAT(st.error_message(), Catch::Contains("token") && Catch::Contains("3 tries"));
  CHECK(p.requests_to("/token").size() == 4);  // the first, then three tries
  node.check_nothing_left(reg);
}

TEST_CASE("a token endpoint that fails once is retried and the pull succeeds") {
  auto& reg = token_registry();
  auto& p = token_proxy();
  p.reset();
  p.set_rules(json::array(
      {rule(reg, "unauthorized", {{"times", 1}}),
       {{"match", "/token"}, {"fault", "status"}, {"status", 503}, {"skip", 1}, {"times", 1}}}));
  faulty_node node(p);
  std::string id;
  auto st = node.pull(&id);
  node.check_pulled(reg, st, id);
  CHECK(p.requests_to("/token").size() == 3);
}

TEST_CASE("a slow blob that keeps moving is not cut off by the progress timeout") {
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  p.set_rules(json::array({rule(reg, "trickle", {{"rate", 1024}, {"bytes", 4096}})}));
  faulty_node node(p, "pull_progress_timeout = 2\n");
  std::string id;
  auto st = node.pull(&id);
  node.check_pulled(reg, st, id);
  CHECK(p.requests_to("/blobs/" + layer_digest(reg)).size() == 1);
}

TEST_CASE("a blob that stops coming is given up after the progress timeout: DEADLINE_EXCEEDED") {
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  p.set_rules(json::array({rule(reg, "stall", {{"after", 4096}, {"hold", 120}})}));
  faulty_node node(p, "pull_progress_timeout = \"2s\"\n");
  auto st = node.pull();
  CHECK(st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  check_names(st, p, reg);
  CHECK_THAT(st.error_message(),
             Catch::Contains("no data") && Catch::Contains("image.pull_progress_timeout"));
  // Given up, not tried again.
  CHECK(p.requests_to("/blobs/" + layer_digest(reg)).size() == 1);
  node.check_nothing_left(reg);
}

TEST_CASE("a TLS handshake that fails once is retried and the pull succeeds") {
  auto& reg = plain_registry();
  auto& p = tls_proxy();
  p.reset();
  // The layer's connection is cut, and the next handshake fails.
  p.set_rules(json::array({rule(reg, "tls_handshake", {{"handshakes", 1}, {"times", 1}})}));
  faulty_node node(p);
  std::string id;
  auto st = node.pull(&id);
  node.check_pulled(reg, st, id);
  int failed_handshakes = 0;
  for (const auto& e : p.log()) failed_handshakes += e.at("method") == "TLS";
  CHECK(failed_handshakes == 1);
}

TEST_CASE("TLS handshakes that keep failing give UNAVAILABLE naming the host and the blob") {
  auto& reg = plain_registry();
  auto& p = tls_proxy();
  p.reset();
  p.set_rules(json::array({rule(reg, "tls_handshake", {{"handshakes", 100}, {"times", 1}})}));
  faulty_node node(p);
  auto st = node.pull();
  CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
  check_names(st, p, reg);
  CHECK_THAT(st.error_message(), Catch::Contains("TLS handshake") && Catch::Contains("3 tries"));
  node.check_nothing_left(reg);
}

TEST_CASE("a layer larger than image.max_layer_bytes fails RESOURCE_EXHAUSTED and leaves nothing") {
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  REQUIRE(busybox_layer(reg).at("uncompressed_size").get<std::int64_t>() > (1 << 20));
  faulty_node node(p, "max_layer_bytes = 1048576\n");
  auto st = node.pull();
  INFO(st.error_message());
  CHECK(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(st.error_message(), Catch::Contains(layer_digest(reg)));
  CHECK_THAT(st.error_message(),
             Catch::Contains("1048576") && Catch::Contains("image.max_layer_bytes"));
  node.check_nothing_left(reg);
}

TEST_CASE(
    "a layer that would leave less than image.min_free_bytes fails RESOURCE_EXHAUSTED mid-layer") {
  if (::geteuid() != 0) {
    std::cout << "SKIP: mounting a small filesystem for <root> needs root\n";
    std::exit(77);
  }
  auto& reg = plain_registry();
  auto& p = proxy();
  p.reset();
  faulty_node node(p);
  // <root> on a 64 MiB tmpfs of its own (the daemon's test harness unmounts
  // it at the end, whatever happens).
  node.daemon.stop();
  REQUIRE(::mount("tmpfs", node.daemon.root().c_str(), "tmpfs", 0, "size=64m,mode=0700") == 0);
  node.daemon.restart();
  node.daemon.stop();
  struct statvfs fs {};
  REQUIRE(::statvfs(node.daemon.root().c_str(), &fs) == 0);
  std::uint64_t available = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  // Enough free space at the first byte, not after half the layer.
  std::uint64_t half = busybox_layer(reg).at("uncompressed_size").get<std::uint64_t>() / 2;
  std::ofstream(node.config, std::ios::app) << "min_free_bytes = " << available - half << "\n";
  node.daemon.restart();
  node.client.reconnect();
  auto st = node.pull();
  INFO(st.error_message());
  CHECK(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(st.error_message(), Catch::Contains(layer_digest(reg)));
  CHECK_THAT(st.error_message(), Catch::Contains(std::to_string(available - half)) &&
                                     Catch::Contains("image.min_free_bytes"));
  node.check_nothing_left(reg);
  node.daemon.stop();
  ::umount2(node.daemon.root().c_str(), MNT_DETACH);
}
