// registry_client against fake_registry.py: resolve, manifests by digest,
// blobs (streamed, ranged, resumed, verified), mirrors, concurrency.

#include "image/registry/registry_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "image/registry/image_config.hpp"
#include "image/registry/manifest.hpp"
#include "reactor/condition.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"
#include "registry_test_util.hpp"

using namespace ringcri;
using namespace ringcri::image;
namespace io = ringcri::reactor;
using namespace std::chrono_literals;
using namespace registry_test;

namespace {

blob_fetch blob_into(const fake_registry& reg, const std::string& name, std::string& out) {
  blob_fetch b;
  b.digest = reg.blob_digest(name);
  b.size = reg.blob_size(name);
  b.sink = [&out](std::span<const std::byte> bytes) -> result<sink_flow> {
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return sink_flow::more;
  };
  return b;
}

int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A whole pull's registry side: index, this host's manifest, config, layers.
io::task<result<std::vector<std::string>>> pull(registry_client& client, const reference& ref) {
  credentials none;
  auto top = co_await client.resolve(ref, none);
  if (!top) co_return tl::unexpected(top.error());
  auto index = parse_index(top->bytes, top->media_type);
  if (!index) co_return tl::unexpected(index.error());
  auto chosen = choose_manifest(*index);
  if (!chosen) co_return tl::unexpected(chosen.error());
  auto m = co_await client.fetch_manifest(ref, chosen->digest, none);
  if (!m) co_return tl::unexpected(m.error());
  auto manifest = parse_manifest(m->bytes, m->media_type);
  if (!manifest) co_return tl::unexpected(manifest.error());

  std::string config_bytes;
  blob_fetch cfg;
  cfg.digest = manifest->config.digest;
  cfg.size = manifest->config.size;
  cfg.sink = [&](std::span<const std::byte> b) -> result<sink_flow> {
    config_bytes.append(reinterpret_cast<const char*>(b.data()), b.size());
    return sink_flow::more;
  };
  auto got_config = co_await client.fetch_blob(ref, none, std::move(cfg));
  if (!got_config) co_return tl::unexpected(got_config.error());
  auto config = parse_image_config(config_bytes);
  if (!config) co_return tl::unexpected(config.error());

  std::vector<io::task<result<std::uint64_t>>> layers;
  for (const auto& layer : manifest->layers) {
    blob_fetch b;
    b.digest = layer.digest;
    b.size = layer.size;
    b.sink = [](std::span<const std::byte>) -> result<sink_flow> { return sink_flow::more; };
    layers.push_back(client.fetch_blob(ref, none, std::move(b)));
  }
  auto results = co_await io::when_all(std::move(layers));
  std::vector<std::string> out{config->architecture};
  for (auto& res : results) {
    if (!res) co_return tl::unexpected(res.error());
    out.push_back(std::to_string(*res));
  }
  co_return out;
}

}  // namespace

TEST_CASE("resolve by tag returns the index as sent, with its digest") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto got = r.block_on(client.resolve(ref_of(reg, "test/repo"), credentials{}));
  REQUIRE(got);
  CHECK(got->media_type == media_types::oci_index);
  CHECK(got->digest == reg.manifest_digest("index"));
  CHECK(registry_detail::sha256_digest_of(got->bytes) == got->digest);

  auto log = requests_to(reg, "/manifests/latest");
  REQUIRE(log.size() == 1);
  std::string accept = log[0]["accept"].get<std::string>();
  for (auto mt : {media_types::oci_index, media_types::oci_manifest, media_types::docker_list,
                  media_types::docker_manifest}) {
    CHECK(contains(accept, std::string(mt)));
  }
}

TEST_CASE("resolve returns each of the four manifest kinds") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto kind = [&](const char* tag) {
    auto got = r.block_on(client.resolve(ref_of(reg, "test/repo", tag), credentials{}));
    REQUIRE(got);
    return got->media_type;
  };
  CHECK(kind("latest") == media_types::oci_index);
  CHECK(kind("list") == media_types::docker_list);
  CHECK(kind("v1") == media_types::oci_manifest);
  CHECK(kind("schema2") == media_types::docker_manifest);
  CHECK(kind("untyped") == media_types::oci_manifest);  // from the document's mediaType
}

TEST_CASE("resolve by digest checks the bytes against the digest") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  std::string digest = reg.manifest_digest("oci_amd64");
  auto good = r.block_on(client.resolve(ref_of(reg, "test/repo", "", digest), credentials{}));
  REQUIRE(good);
  CHECK(good->digest == digest);
  CHECK(good->media_type == media_types::oci_manifest);

  std::string bad_digest = reg.content()["bad_digest"].get<std::string>();
  auto bad = r.block_on(client.resolve(ref_of(reg, "test/repo", "", bad_digest), credentials{}));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind() == error_kind::failed_precondition);
  CHECK(contains(bad.error().message(), "the content hashes to " + digest));
}

TEST_CASE("a Docker-Content-Digest that disagrees with the bytes is refused") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto got = r.block_on(client.resolve(ref_of(reg, "test/repo", "lying"), credentials{}));
  REQUIRE_FALSE(got);
  CHECK(got.error().kind() == error_kind::failed_precondition);
  CHECK(contains(got.error().message(), "but the registry says"));
}

TEST_CASE("an unknown tag is NOT_FOUND with the registry's own words") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto got = r.block_on(client.resolve(ref_of(reg, "test/repo", "nope"), credentials{}));
  REQUIRE_FALSE(got);
  CHECK(got.error().kind() == error_kind::not_found);
  CHECK(contains(got.error().message(), "resolve " + reg.host() + "/test/repo:nope"));
  CHECK(contains(got.error().message(), "HTTP 404 Not Found: MANIFEST_UNKNOWN: manifest unknown"));
}

TEST_CASE("a whole pull: index, this host's manifest, config and layers") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto got = r.block_on(pull(client, ref_of(reg, "test/repo")));
  REQUIRE(got);
  REQUIRE(got->size() == 3);
  CHECK((*got)[0] == host_platform().architecture);
  CHECK((*got)[1] == std::to_string(reg.blob_size("layer1")));
  CHECK((*got)[2] == std::to_string(reg.blob_size("layer2")));
}

TEST_CASE("a blob fetched from an offset asks for the rest with Range") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  std::string got;
  auto b = blob_into(reg, "layer1", got);
  b.offset = 1000;
  auto n = r.block_on(client.fetch_blob(ref_of(reg, "test/repo"), credentials{}, std::move(b)));
  REQUIRE(n);
  CHECK(*n == static_cast<std::uint64_t>(reg.blob_size("layer1") - 1000));
  CHECK(got.size() == *n);
  auto log = requests_to(reg, "/blobs/");
  REQUIRE(log.size() == 1);
  CHECK(log[0]["range"] == "bytes=1000-");
}

TEST_CASE("a download that breaks half-way resumes with Range from what was delivered") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  std::string got;
  auto n = r.block_on(
      client.fetch_blob(ref_of(reg, "test/repo"), credentials{}, blob_into(reg, "flaky", got)));
  REQUIRE(n);
  CHECK(*n == static_cast<std::uint64_t>(reg.blob_size("flaky")));
  CHECK(registry_detail::sha256_digest_of(got) == reg.blob_digest("flaky"));
  auto log = requests_to(reg, "/blobs/");
  REQUIRE(log.size() == 2);
  CHECK(log[0]["range"].is_null());
  CHECK(log[1]["range"] == "bytes=" + std::to_string(reg.blob_size("flaky") / 2) + "-");
}

TEST_CASE("a server that ignores Range on the retry has the delivered bytes skipped") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  std::string got;
  auto n = r.block_on(
      client.fetch_blob(ref_of(reg, "test/repo"), credentials{}, blob_into(reg, "norange", got)));
  REQUIRE(n);
  CHECK(got.size() == static_cast<std::size_t>(reg.blob_size("norange")));
  CHECK(registry_detail::sha256_digest_of(got) == reg.blob_digest("norange"));
  CHECK(requests_to(reg, "/blobs/").size() == 2);
}

TEST_CASE("a blob whose content does not match its digest fails") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  std::string got;
  auto n = r.block_on(
      client.fetch_blob(ref_of(reg, "test/repo"), credentials{}, blob_into(reg, "wrong", got)));
  REQUIRE_FALSE(n);
  CHECK(n.error().kind() == error_kind::failed_precondition);
  CHECK(contains(n.error().message(), "hashes to sha256:"));
  CHECK(contains(n.error().message(), reg.blob_digest("wrong")));
}

TEST_CASE("with verify off the digest is left to the consumer, the size still checked") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  std::string got;
  auto b = blob_into(reg, "wrong", got);
  b.verify = false;
  auto n = r.block_on(client.fetch_blob(ref_of(reg, "test/repo"), credentials{}, std::move(b)));
  REQUIRE(n);
  CHECK(*n == static_cast<std::uint64_t>(reg.blob_size("wrong")));
}

TEST_CASE("a blob larger or smaller than its descriptor says fails") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  std::string got;
  auto small = blob_into(reg, "layer1", got);
  small.size -= 1;
  auto over = r.block_on(client.fetch_blob(ref_of(reg, "test/repo"), credentials{}, small));
  REQUIRE_FALSE(over);
  CHECK(over.error().kind() == error_kind::failed_precondition);
  CHECK(contains(over.error().message(), "more than the"));

  got.clear();
  auto big = blob_into(reg, "layer1", got);
  big.size += 1;
  auto under = r.block_on(client.fetch_blob(ref_of(reg, "test/repo"), credentials{}, big));
  REQUIRE_FALSE(under);
  CHECK(under.error().kind() == error_kind::failed_precondition);
  CHECK(contains(under.error().message(), "its descriptor says"));
}

TEST_CASE("an empty blob is fetched and verified") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  std::string got;
  auto n = r.block_on(
      client.fetch_blob(ref_of(reg, "test/repo"), credentials{}, blob_into(reg, "empty", got)));
  REQUIRE(n);
  CHECK(*n == 0);
}

TEST_CASE("mirrors are tried in order, falling back on 404 and 5xx (after its tries), with ns=") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint("/m404/v2", true),
                                      reg.endpoint("/m500/v2", true), reg.endpoint()}));
  auto ref = ref_of(reg, "test/repo");
  auto got = r.block_on(client.resolve(ref, credentials{}));
  REQUIRE(got);
  CHECK(got->media_type == media_types::oci_index);
  auto log = reg.stats()["log"];
  // 404 is an answer; 500 may be an outage, tried as often as the policy says.
  REQUIRE(log.size() == 5);
  CHECK(log[0]["path"] == "/m404/v2/test/repo/manifests/latest");
  CHECK(log[0]["query"]["ns"][0] == reg.host());
  for (int i = 1; i <= 3; ++i) {
    CHECK(log[i]["path"] == "/m500/v2/test/repo/manifests/latest");
    CHECK(log[i]["query"]["ns"][0] == reg.host());
  }
  CHECK(log[4]["path"] == "/v2/test/repo/manifests/latest");
  CHECK_FALSE(log[4]["query"].contains("ns"));
}

TEST_CASE("a mirror that has the content serves it; the registry is not asked") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint("/mirror/v2", true), reg.endpoint()}));
  auto ref = ref_of(reg, "test/repo");
  REQUIRE(r.block_on(client.resolve(ref, credentials{})));
  std::string got;
  REQUIRE(r.block_on(client.fetch_blob(ref, credentials{}, blob_into(reg, "layer1", got))));
  auto log = reg.stats()["log"];
  REQUIRE(log.size() == 2);
  for (const auto& e : log) CHECK(e["path"].get<std::string>().starts_with("/mirror/v2/"));
}

TEST_CASE("tags are resolved only where resolve is allowed; blobs come from pull mirrors") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  auto mirror = reg.endpoint("/mirror/v2", true);
  mirror.can_resolve = false;
  registry_client client(http, fixed({mirror, reg.endpoint()}));
  auto ref = ref_of(reg, "test/repo");
  REQUIRE(r.block_on(client.resolve(ref, credentials{})));
  std::string got;
  REQUIRE(r.block_on(client.fetch_blob(ref, credentials{}, blob_into(reg, "layer1", got))));
  auto log = reg.stats()["log"];
  REQUIRE(log.size() == 2);
  CHECK(log[0]["path"] == "/v2/test/repo/manifests/latest");
  CHECK(log[1]["path"].get<std::string>().starts_with("/mirror/v2/test/repo/blobs/"));

  auto only_mirror = registry_client(http, fixed({mirror}));
  auto none = r.block_on(only_mirror.resolve(ref, credentials{}));
  REQUIRE_FALSE(none);
  CHECK(none.error().kind() == error_kind::failed_precondition);
  CHECK(contains(none.error().message(), "resolve capability"));
}

TEST_CASE("an endpoint that cannot be reached is left for the next") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  auto dead = reg.endpoint("/v2", true);
  dead.host = "127.0.0.1:" + std::to_string(closed_port());
  registry_client client(http, fixed({dead, reg.endpoint()}));
  auto ref = ref_of(reg, "test/repo");
  REQUIRE(r.block_on(client.resolve(ref, credentials{})));
  std::string got;
  REQUIRE(r.block_on(client.fetch_blob(ref, credentials{}, blob_into(reg, "layer2", got))));
  CHECK(got.size() == static_cast<std::size_t>(reg.blob_size("layer2")));
}

TEST_CASE("when every endpoint fails, the error names each of them") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http,
                         fixed({reg.endpoint("/m404/v2", true), reg.endpoint("/m500/v2", true)}));
  auto got = r.block_on(client.resolve(ref_of(reg, "test/repo"), credentials{}));
  REQUIRE_FALSE(got);
  CHECK(got.error().kind() == error_kind::unavailable);  // the last one's: HTTP 500
  CHECK(contains(got.error().message(), "/m500/v2: HTTP 500"));
  CHECK(contains(got.error().message(), "mirror is broken (3 tries)"));
  CHECK(contains(got.error().message(), "also tried"));
  CHECK(contains(got.error().message(), "/m404/v2: HTTP 404 Not Found: NAME_UNKNOWN"));

  auto dead = reg.endpoint();
  dead.host = "127.0.0.1:" + std::to_string(closed_port());
  registry_client unreachable(http, fixed({dead}));
  auto refused = r.block_on(unreachable.resolve(ref_of(reg, "test/repo"), credentials{}));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind() == error_kind::unavailable);
  CHECK(contains(refused.error().message(), "cannot connect to " + dead.host));
}

TEST_CASE("a pull's credentials go to the registry, never to a mirror") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint("/mirror/v2", true), reg.endpoint()}));
  auto got = r.block_on(client.resolve(ref_of(reg, "private/repo"), alice()));
  REQUIRE(got);  // the mirror refused the anonymous pull; the registry took alice's
  auto tokens = requests_to(reg, "/token");
  REQUIRE(tokens.size() == 2);
  CHECK(tokens[0]["authorization"].is_null());
  CHECK(tokens[1]["authorization"] == basic_authorization(alice()));
}

TEST_CASE("50 blobs download at once on one reactor") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto ref = ref_of(reg, "test/repo");
  std::vector<std::string> bodies(50);
  credentials anonymous;  // outlives the tasks, which hold a reference to it
  std::vector<io::task<result<std::uint64_t>>> tasks;
  for (int i = 0; i < 50; ++i) {
    tasks.push_back(
        client.fetch_blob(ref, anonymous, blob_into(reg, "many" + std::to_string(i), bodies[i])));
  }
  auto results = r.block_on(io::when_all(std::move(tasks)));
  REQUIRE(results.size() == 50);
  for (int i = 0; i < 50; ++i) {
    INFO("blob " << i);
    REQUIRE(results[i]);
    CHECK(registry_detail::sha256_digest_of(bodies[i]) ==
          reg.blob_digest("many" + std::to_string(i)));
  }
  CHECK(reg.connections() <= http.options().max_host_connections);
}

TEST_CASE("a blob download is cancelled mid-way") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  std::string got;
  const auto half = static_cast<std::size_t>(reg.blob_size("slowblob") / 2);
  // The server sends half of the blob and then nothing for 30 s. The
  // canceller waits until that half has arrived, so the cancellation lands
  // while the download waits for more; uncancelled, it would end with the
  // connection (UNAVAILABLE), not CANCELLED.
  auto res = r.block_on([](registry_client& client, reference ref, blob_fetch b, std::string& got,
                           std::size_t half) -> io::task<result<std::uint64_t>> {
    io::cancellation cancel;
    io::condition arrived;
    b.cancel = &cancel;
    b.sink = [&got, &arrived](std::span<const std::byte> bytes) -> result<sink_flow> {
      got.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      arrived.notify_all();
      return sink_flow::more;
    };
    credentials anonymous;  // not credentials{} in a co_await: g++ 12 frees it twice
    auto canceller = [](io::cancellation& c, io::condition& arrived, std::string& got,
                        std::size_t half) -> io::task<void> {
      std::function<bool()> half_there = [&got, half] { return got.size() >= half; };
      const auto deadline = io::clock::now() + 60s;
      const bool there = co_await io::wait_until(arrived, half_there, deadline);
      (void)there;  // checked below through got.size()
      c.cancel();
    };
    auto [n, _] = co_await io::when_all(client.fetch_blob(ref, anonymous, std::move(b)),
                                        canceller(cancel, arrived, got, half));
    co_return std::move(n);
  }(client, ref_of(reg, "test/repo"), blob_into(reg, "slowblob", got), got, half));
  REQUIRE_FALSE(res);
  CHECK(res.error().kind() == error_kind::cancelled);
  CHECK(got.size() == half);
}
