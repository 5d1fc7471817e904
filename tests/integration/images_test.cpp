// Image pulls from a real registry (Debian's docker-registry on 127.0.0.1),
// through the daemon's socket: every fixture image, plain, TLS + basic auth
// and bearer tokens; the unpacked layers are compared with the source
// tarballs through an overlay mount of them.

#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "support/cri_client.hpp"
#include "support/registry_fixture.hpp"
#include "support/ringcri_process.hpp"
#include "support/skip.hpp"

using namespace ringcri::testing;
namespace v1 = runtime::v1;
namespace fs = std::filesystem;

namespace {

void skip_without_fixtures() {
  auto why = registry_fixture::unavailable_reason();
  if (!why.empty()) skip_binary(why);
}

// One plain registry with every image, for the whole file.
registry_fixture& plain_registry() {
  skip_without_fixtures();
  static registry_fixture r("plain");
  return r;
}

grpc::Status pull(cri_client& c, const std::string& image, v1::PullImageResponse* resp,
                  const v1::AuthConfig* auth = nullptr) {
  v1::PullImageRequest req;
  req.mutable_image()->set_image(image);
  if (auth) *req.mutable_auth() = *auth;
  return c.image_call(&v1::ImageService::Stub::PullImage, req, resp);
}

std::optional<v1::Image> status_of(cri_client& c, const std::string& image, bool verbose = false,
                                   std::string* info = nullptr) {
  v1::ImageStatusRequest req;
  req.mutable_image()->set_image(image);
  req.set_verbose(verbose);
  v1::ImageStatusResponse resp;
  REQUIRE(c.image_call(&v1::ImageService::Stub::ImageStatus, req, &resp).ok());
  if (info && resp.info().count("info")) *info = resp.info().at("info");
  if (!resp.has_image()) return std::nullopt;
  return resp.image();
}

// Where the daemon keeps a layer: a directory, or an EROFS image file.
fs::path layer_dir(const ringcri_process& d, const std::string& diff_id) {
  return d.layer_path(diff_id);
}

// A layer's tree to read: its directory, or its EROFS image mounted
// read-only on a temp dir for as long as this lives.
struct layer_view {
  temp_dir mnt{"ringcri-layer"};
  fs::path root;
  bool mounted = false;
  layer_view(const ringcri_process& d, const std::string& diff_id) : root(d.layer_path(diff_id)) {
    if (fs::is_directory(root)) return;
    REQUIRE(::mount(root.c_str(), mnt.path().c_str(), "erofs", MS_RDONLY, nullptr) == 0);
    mounted = true;
    root = mnt.path();
  }
  ~layer_view() {
    if (mounted) ::umount2(mnt.path().c_str(), MNT_DETACH);
  }
};

// Mounts the image's layers as one read-only overlay (as a container's
// lowers) and compares the tree with images.json's expected rootfs.
void check_rootfs(const registry_fixture& reg, const ringcri_process& d, const std::string& name) {
  const auto& img = reg.image(name);
  std::vector<std::string> diff_ids = img.at("diff_ids");
  temp_dir mnt("ringcri-rootfs");
  fs::path root = mnt.path();
  bool mounted = false;
  std::vector<std::unique_ptr<layer_view>> layers;
  for (const std::string& id : diff_ids) layers.push_back(std::make_unique<layer_view>(d, id));
  if (diff_ids.size() == 1) {
    root = layers[0]->root;
  } else {
    std::string lower;
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
      if (!lower.empty()) lower += ":";
      lower += (*it)->root.string();
    }
    REQUIRE(::mount("overlay", mnt.path().c_str(), "overlay", MS_RDONLY, ("lowerdir=" + lower).c_str()) == 0);
    mounted = true;
  }
  std::string cmd = "/usr/bin/python3 " + (fixtures_dir() / "check_rootfs.py").string() + " " +
                    reg.images_json().string() + " " + name + " " + root.string() + " > " +
                    (mnt.path().parent_path() / ("check-" + std::to_string(::getpid()) + ".log")).string() + " 2>&1";
  int rc = run_shell(cmd);
  if (mounted) ::umount2(mnt.path().c_str(), MNT_DETACH);
  if (rc != 0) {
    std::ifstream log(mnt.path().parent_path() / ("check-" + std::to_string(::getpid()) + ".log"));
    std::string text((std::istreambuf_iterator<char>(log)), {});
    FAIL("rootfs of " << name << " differs from its source:\n" << text);
  }
}

// tests/fixtures/stall_proxy.py in front of `reg`: it sends half of the
// blob `digest`, then holds it until kill().
class stall_proxy {
 public:
  stall_proxy(const registry_fixture& reg, const std::string& digest) {
    const std::string script = (fixtures_dir() / "stall_proxy.py").string();
    const std::string upstream = reg.host();
    const std::string dir = dir_.path().string();
    const char* argv[] = {
        "/usr/bin/python3", script.c_str(), "--upstream", upstream.c_str(), "--stall",
        digest.c_str(),     "--dir",        dir.c_str(),  nullptr};
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::execv(argv[0], const_cast<char* const*>(argv));
      ::_exit(127);
    }
    for (int i = 0; i < 3000 && !fs::exists(dir_.path() / "port"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::ifstream port(dir_.path() / "port");
    port >> port_;
    REQUIRE(port_ > 0);
  }
  ~stall_proxy() { kill(); }
  stall_proxy(const stall_proxy&) = delete;
  stall_proxy& operator=(const stall_proxy&) = delete;

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  // Whether the blob's first half has been sent and the rest is held.
  bool wait_stalled(std::chrono::seconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!fs::exists(dir_.path() / "stalled")) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // SIGKILL: every connection it holds is dropped.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  temp_dir dir_{"ringcri-proxy"};
  pid_t pid_ = -1;
  int port_ = 0;
};

std::size_t count_entries(const fs::path& dir) {
  if (!fs::exists(dir)) return 0;
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("a single-layer image is pulled, listed, inspected and its files match the source") {
  auto& reg = plain_registry();
  ringcri_process d;
  cri_client c(d.socket());
  const auto& img = reg.image("busybox:1");
  v1::PullImageResponse resp;
  auto st = pull(c, img.at("reference"), &resp);
  REQUIRE(st.ok());
  CHECK(resp.image_ref() == img.at("image_id"));

  v1::ListImagesResponse list;
  REQUIRE(c.image_call(&v1::ImageService::Stub::ListImages, v1::ListImagesRequest{}, &list).ok());
  REQUIRE(list.images_size() == 1);
  const auto& listed = list.images(0);
  CHECK(listed.id() == img.at("image_id"));
  REQUIRE(listed.repo_tags_size() == 1);
  CHECK(listed.repo_tags(0) == reg.host() + "/busybox:1");
  REQUIRE(listed.repo_digests_size() == 1);
  CHECK(listed.repo_digests(0) == reg.host() + "/busybox@" + img.at("digest").get<std::string>());
  CHECK(listed.size() > 0);

  // Found by tag, by digest reference, by id and by id prefix.
  CHECK(status_of(c, img.at("reference")));
  CHECK(status_of(c, img.at("reference_by_digest")));
  CHECK(status_of(c, img.at("image_id")));
  CHECK(status_of(c, img.at("image_id").get<std::string>().substr(7, 12)));
  CHECK_FALSE(status_of(c, reg.host() + "/busybox:2"));

  std::string info;
  auto verbose = status_of(c, img.at("reference"), true, &info);
  REQUIRE(verbose);
  auto parsed = nlohmann::json::parse(info);
  CHECK(parsed["imageSpec"]["config"]["Cmd"] == nlohmann::json::array({"sh"}));

  check_rootfs(reg, d, "busybox:1");

  // The layer now counts in the image filesystem's usage.
  v1::ImageFsInfoResponse fs_info;
  REQUIRE(c.image_call(&v1::ImageService::Stub::ImageFsInfo, v1::ImageFsInfoRequest{}, &fs_info).ok());
  CHECK(fs_info.image_filesystems(0).used_bytes().value() > 1'000'000);  // busybox alone is ~2 MB
  // A directory layer takes an inode per file; an EROFS layer is one file.
  if (d.layer_store() == "erofs")
    CHECK(fs_info.image_filesystems(0).inodes_used().value() == 1);
  else
    CHECK(fs_info.image_filesystems(0).inodes_used().value() > 100);
}

TEST_CASE("a multi-layer image with whiteouts, opaque dirs, hard links and xattrs unpacks exactly") {
  auto& reg = plain_registry();
  ringcri_process d;
  cri_client c(d.socket());
  v1::PullImageResponse resp;
  REQUIRE(pull(c, reg.image("layered:1").at("reference"), &resp).ok());
  check_rootfs(reg, d, "layered:1");
  auto img = status_of(c, reg.image("layered:1").at("reference"));
  REQUIRE(img);
  CHECK(img->username() == "app");
}

TEST_CASE("zstd layers, OCI indexes, Docker manifests and manifest lists are pulled") {
  auto& reg = plain_registry();
  ringcri_process d;
  cri_client c(d.socket());
  for (const char* name : {"zstd:1", "docker:1"}) {
    v1::PullImageResponse resp;
    auto st = pull(c, reg.image(name).at("reference"), &resp);
    INFO(name << ": " << st.error_message());
    REQUIRE(st.ok());
    CHECK(resp.image_ref() == reg.image(name).at("image_id"));
    check_rootfs(reg, d, name);
  }
  // Indexes: the amd64 entry's config is the image id.
  for (const char* name : {"multi:1", "dockerlist:1"}) {
    v1::PullImageResponse resp;
    auto st = pull(c, reg.image(name).at("reference"), &resp);
    INFO(name << ": " << st.error_message());
    REQUIRE(st.ok());
    std::string amd64_id;
    for (const auto& m : reg.image(name).at("manifests"))
      if (m.at("platform").at("architecture") == "amd64") amd64_id = m.at("image_id");
    CHECK(resp.image_ref() == amd64_id);
  }
}

TEST_CASE("malicious layers are refused and nothing lands outside the layer store") {
  auto& reg = plain_registry();
  ringcri_process d;
  cri_client c(d.socket());
  for (const char* name : {"evil:1", "evillink:1"}) {
    v1::PullImageResponse resp;
    auto st = pull(c, reg.image(name).at("reference"), &resp);
    INFO(name << ": " << st.error_message());
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(st.error_message(), Catch::Contains(name) || Catch::Contains("layer"));
  }
  // No escapee anywhere it could have gone.
  const auto& evil = reg.image("evil:1").at("evil");
  for (const auto& [key, value] : evil.items()) {
    if (!value.is_string()) continue;
    std::string s = value;
    if (s.starts_with("/")) {
      INFO(key << " = " << s);
      CHECK_FALSE(fs::exists(s));
    }
  }
  CHECK(count_entries(d.layers_tmp()) == 0);
  v1::ListImagesResponse list;
  REQUIRE(c.image_call(&v1::ImageService::Stub::ListImages, v1::ListImagesRequest{}, &list).ok());
  CHECK(list.images_size() == 0);
}

TEST_CASE("a layer two images share is fetched once and stays until both are removed") {
  auto& reg = plain_registry();
  ringcri_process d;
  cri_client c(d.socket());
  v1::PullImageResponse a, b;
  REQUIRE(pull(c, reg.image("busybox:1").at("reference"), &a).ok());
  REQUIRE(pull(c, reg.image("zstd:1").at("reference"), &b).ok());  // same diff id, other blob
  std::string shared = reg.image("busybox:1").at("diff_ids")[0];
  CHECK(reg.image("zstd:1").at("diff_ids")[0] == shared);
  CHECK(fs::exists(layer_dir(d, shared)));

  v1::RemoveImageRequest rm;
  rm.mutable_image()->set_image(reg.image("busybox:1").at("reference"));
  v1::RemoveImageResponse rm_resp;
  REQUIRE(c.image_call(&v1::ImageService::Stub::RemoveImage, rm, &rm_resp).ok());
  CHECK_FALSE(status_of(c, reg.image("busybox:1").at("reference")));
  CHECK(fs::exists(layer_dir(d, shared)));  // zstd:1 still uses it

  rm.mutable_image()->set_image(b.image_ref());  // by id this time
  REQUIRE(c.image_call(&v1::ImageService::Stub::RemoveImage, rm, &rm_resp).ok());
  CHECK_FALSE(fs::exists(layer_dir(d, shared)));
  // Removing what is gone is not an error.
  REQUIRE(c.image_call(&v1::ImageService::Stub::RemoveImage, rm, &rm_resp).ok());
}

TEST_CASE("pulled images survive a SIGKILL of the daemon") {
  auto& reg = plain_registry();
  ringcri_process d;
  {
    cri_client c(d.socket());
    v1::PullImageResponse resp;
    REQUIRE(pull(c, reg.image("busybox:1").at("reference"), &resp).ok());
  }
  d.kill();
  d.restart();
  cri_client c(d.socket());
  auto img = status_of(c, reg.image("busybox:1").at("reference"));
  REQUIRE(img);
  CHECK(img->id() == reg.image("busybox:1").at("image_id"));
}

TEST_CASE("bad references and unreachable registries get clear errors") {
  auto& reg = plain_registry();
  ringcri_process d;
  cri_client c(d.socket());
  v1::PullImageResponse resp;
  auto bad = pull(c, "Not/Valid:", &resp);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(bad.error_message(), Catch::Contains("Not/Valid:"));

  auto missing = pull(c, reg.host() + "/nothing-here:1", &resp);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK_THAT(missing.error_message(), Catch::Contains("nothing-here"));

  // A port nobody listens on.
  auto down = pull(c, "127.0.0.1:1/busybox:1", &resp);
  CHECK(down.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK_THAT(down.error_message(), Catch::Contains("127.0.0.1:1"));
}

TEST_CASE("TLS with basic auth: credentials from the request or the config file") {
  skip_without_fixtures();
  registry_fixture reg("tls-basic", "busybox");
  const auto& img = reg.image("busybox:1");
  temp_dir conf;
  auto host_dir = conf.path() / "certs.d" / reg.host();
  fs::create_directories(host_dir);
  std::ofstream(host_dir / "hosts.toml") << "server = \"https://" << reg.host() << "\"\n"
                                         << "ca = \"" << reg.env("REGISTRY_CA") << "\"\n";
  auto config = conf.path() / "ringcri.toml";
  std::ofstream(config) << "[registry]\nconfig_path = \"" << (conf.path() / "certs.d").string() << "\"\n";
  {
    ringcri_process d({"--config", config.string()});
    cri_client c(d.socket());
    v1::PullImageResponse resp;
    auto anonymous = pull(c, img.at("reference"), &resp);
    CHECK(anonymous.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK_THAT(anonymous.error_message(), Catch::Contains(reg.host()));

    v1::AuthConfig auth;
    auth.set_username(reg.env("REGISTRY_USER"));
    auth.set_password(reg.env("REGISTRY_PASSWORD"));
    auto st = pull(c, img.at("reference"), &resp, &auth);
    INFO(st.error_message());
    REQUIRE(st.ok());
    CHECK(resp.image_ref() == img.at("image_id"));
  }
  // The same credentials from the config file instead.
  std::ofstream(config, std::ios::app) << "[registry.auths.\"" << reg.host() << "\"]\nusername = \""
                                       << reg.env("REGISTRY_USER") << "\"\npassword = \""
                                       << reg.env("REGISTRY_PASSWORD") << "\"\n";
  ringcri_process d({"--config", config.string()});
  cri_client c(d.socket());
  v1::PullImageResponse resp;
  auto st = pull(c, img.at("reference"), &resp);
  INFO(st.error_message());
  CHECK(st.ok());
}

TEST_CASE("bearer-token auth: the token flow with the request's credentials") {
  skip_without_fixtures();
  registry_fixture reg("token", "busybox");
  const auto& img = reg.image("busybox:1");
  ringcri_process d;
  cri_client c(d.socket());
  v1::PullImageResponse resp;
  // Without credentials the token server refuses a token (401): the pull
  // is refused as the basic-auth one is, naming the registry.
  auto anonymous = pull(c, img.at("reference"), &resp);
  CHECK(anonymous.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_THAT(anonymous.error_message(), Catch::Contains(reg.host()));

  v1::AuthConfig auth;
  // The `auth` form: base64("user:password").
  std::string pair = reg.env("REGISTRY_USER") + ":" + reg.env("REGISTRY_PASSWORD");
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string enc;
  int val = 0, bits = -6;
  for (unsigned char ch : pair) {
    val = (val << 8) + ch;
    bits += 8;
    while (bits >= 0) {
      enc.push_back(b64[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) enc.push_back(b64[((val << 8) >> (bits + 8)) & 0x3F]);
  while (enc.size() % 4) enc.push_back('=');
  auth.set_auth(enc);
  auto st = pull(c, img.at("reference"), &resp, &auth);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK(resp.image_ref() == img.at("image_id"));
}

TEST_CASE("two pulls that need one layer at once share one fetch") {
  skip_without_fixtures();
  registry_fixture reg("plain", "busybox,zstd");
  ringcri_process d;
  // busybox:1 and zstd:1 are two blobs of one layer (one diff id).
  std::string refs[2] = {reg.image("busybox:1").at("reference"), reg.image("zstd:1").at("reference")};
  grpc::Status results[2];
  {
    std::vector<std::thread> pulls;
    for (int i = 0; i < 2; ++i) {
      pulls.emplace_back([&, i] {
        cri_client c(d.socket());
        v1::PullImageResponse resp;
        results[i] = pull(c, refs[i], &resp);
      });
    }
    for (auto& t : pulls) t.join();
  }
  REQUIRE(results[0].ok());
  REQUIRE(results[1].ok());
  // The registry's access log: how many of the two layer blobs were fetched.
  std::ifstream log(reg.env("REGISTRY_LOG"));
  std::string text((std::istreambuf_iterator<char>(log)), {});
  int fetched = 0;
  for (const char* name : {"busybox:1", "zstd:1"}) {
    std::string blob = reg.image(name).at("layers")[0].at("digest");
    if (text.find("GET /v2/" + reg.image(name).at("repository").get<std::string>() + "/blobs/" + blob) !=
        std::string::npos)
      ++fetched;
  }
  // Both pulls at once: one fetch. (If one pull finished before the other
  // began, the second found the layer present: still one fetch.)
  CHECK(fetched == 1);
}

TEST_CASE("a registry killed mid-pull gives UNAVAILABLE and leaves no partial layer") {
  skip_without_fixtures();
  registry_fixture reg("plain", "busybox");
  const auto& img = reg.image("busybox:1");
  // The daemon pulls through a proxy that sends half of the layer and then
  // holds it: the registry is killed while the layer is half-fetched,
  // whatever the machine's speed.
  stall_proxy proxy(reg, img.at("layers")[0].at("digest"));
  ringcri_process d;
  cri_client c(d.socket(), std::chrono::minutes(5));
  grpc::Status st;
  std::thread puller([&] {
    v1::PullImageResponse resp;
    st = pull(c, proxy.host() + "/busybox:1", &resp);
  });
  const bool stalled = proxy.wait_stalled(std::chrono::seconds(60));
  // The half-fetched layer is being unpacked in a temporary dir.
  bool partial = false;
  for (int i = 0; i < 3000 && stalled && !partial; ++i) {
    partial = count_entries(d.layers_tmp()) > 0;
    if (!partial) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  proxy.kill();
  puller.join();
  REQUIRE(stalled);
  CHECK(partial);
  INFO(st.error_message());
  CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK_THAT(st.error_message(), Catch::Contains(proxy.host()));
  CHECK(count_entries(d.layers_tmp()) == 0);
  CHECK_FALSE(fs::exists(layer_dir(d, img.at("diff_ids")[0])));
  v1::ListImagesResponse list;
  REQUIRE(c.image_call(&v1::ImageService::Stub::ListImages, v1::ListImagesRequest{}, &list).ok());
  CHECK(list.images_size() == 0);
}

TEST_CASE(
    "a layer that unpacks to another diff id than its config says fails the pull and leaves "
    "nothing") {
  auto& reg = plain_registry();
  ringcri_process d;
  cri_client c(d.socket());
  const auto& img = reg.image("baddiffid:1");
  const std::string lie = img.at("baddiffid").at("config_diff_id");
  const std::string truth = img.at("baddiffid").at("layer_diff_id");
  REQUIRE(lie != truth);

  // Every path under the daemon's root before the pull.
  auto tree = [&] {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(d.root())) out.insert(e.path().string());
    return out;
  };
  const auto before = tree();

  v1::PullImageResponse resp;
  auto st = pull(c, img.at("reference"), &resp);
  INFO(st.error_message());
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains(truth) && Catch::Contains(lie));
  CHECK(resp.image_ref().empty());

  // Nothing of it is kept: no layer under either id, no partial tree, no
  // image, nothing new anywhere under the root.
  CHECK_FALSE(fs::exists(layer_dir(d, lie)));
  CHECK_FALSE(fs::exists(layer_dir(d, truth)));
  CHECK(count_entries(d.layers_tmp()) == 0);
  CHECK_FALSE(status_of(c, img.at("reference")).has_value());
  v1::ListImagesResponse list;
  REQUIRE(c.image_call(&v1::ImageService::Stub::ListImages, v1::ListImagesRequest{}, &list).ok());
  CHECK(list.images_size() == 0);
  std::vector<std::string> added;
  for (const auto& p : tree())
    if (!before.contains(p) && !p.starts_with(d.layers_tmp().string())) added.push_back(p);
  CHECK(added == std::vector<std::string>{});

  // The same daemon pulls a good image after it.
  st = pull(c, reg.image("busybox:1").at("reference"), &resp);
  INFO(st.error_message());
  CHECK(st.ok());
}
