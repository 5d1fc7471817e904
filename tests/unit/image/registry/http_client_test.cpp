// http_client against a real HTTP server on 127.0.0.1 (fake_registry.py).

#include "image/registry/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "fake_registry.hpp"
#include "image/registry/content_digest.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"
#include "support/io_checks.hpp"

using namespace ringcri;
using namespace ringcri::image;
namespace io = ringcri::reactor;
using namespace std::chrono_literals;
using registry_test::fake_registry;

namespace {

http_request get(std::string url) {
  http_request req;
  req.url = std::move(url);
  return req;
}

// A sink that appends to `out`.
body_sink collect_into(std::string& out) {
  return [&out](std::span<const std::byte> b) -> result<sink_flow> {
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
    return sink_flow::more;
  };
}

io::task<std::vector<result<http_response>>> all(http_client& http,
                                                 std::vector<http_request> reqs) {
  std::vector<io::task<result<http_response>>> tasks;
  for (auto& r : reqs) tasks.push_back(http.request(std::move(r)));
  co_return co_await io::when_all(std::move(tasks));
}

// A port nothing listens on.
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

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a small body is collected, with the final response's headers") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  auto resp = r.block_on(http.request(get(reg.url("/v2/test/repo/manifests/v1"))));
  REQUIRE(resp);
  CHECK(resp->status == 200);
  CHECK(resp->ok());
  CHECK(resp->reason == "OK");
  CHECK(resp->header("content-type") == "application/vnd.oci.image.manifest.v1+json");
  CHECK(resp->header("docker-content-digest") == reg.manifest_digest("oci_amd64"));
  CHECK(registry_detail::sha256_digest_of(resp->body) == reg.manifest_digest("oci_amd64"));
  CHECK(resp->streamed == 0);
}

TEST_CASE("a large body streams to the sink in order") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  std::string got;
  auto req = get(reg.url("/v2/test/repo/blobs/" + reg.blob_digest("layer2")));
  req.sink = collect_into(got);
  auto resp = r.block_on(http.request(std::move(req)));
  REQUIRE(resp);
  CHECK(resp->status == 200);
  CHECK(resp->body.empty());
  CHECK(resp->streamed == static_cast<std::uint64_t>(reg.blob_size("layer2")));
  CHECK(registry_detail::sha256_digest_of(got) == reg.blob_digest("layer2"));
}

TEST_CASE("an error status is a response whose body is kept, not streamed") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  bool sink_called = false;
  auto req = get(reg.url("/v2/test/repo/blobs/sha256:" + std::string(64, 'a')));
  req.sink = [&](std::span<const std::byte>) -> result<sink_flow> {
    sink_called = true;
    return sink_flow::more;
  };
  auto resp = r.block_on(http.request(std::move(req)));
  REQUIRE(resp);
  CHECK(resp->status == 404);
  CHECK_FALSE(sink_called);
  CHECK(contains(resp->body, "BLOB_UNKNOWN"));
  error e = http_status_error(*resp, "get blob");
  CHECK(e.kind() == error_kind::not_found);
  CHECK(e.message() == "get blob: HTTP 404 Not Found");
}

TEST_CASE("HTTP statuses map to error kinds") {
  CHECK(http_status_kind(401) == error_kind::permission_denied);
  CHECK(http_status_kind(403) == error_kind::permission_denied);
  CHECK(http_status_kind(404) == error_kind::not_found);
  CHECK(http_status_kind(408) == error_kind::deadline_exceeded);
  CHECK(http_status_kind(429) == error_kind::unavailable);
  CHECK(http_status_kind(503) == error_kind::unavailable);
  CHECK(http_status_kind(400) == error_kind::invalid_argument);
  CHECK(http_status_kind(416) == error_kind::failed_precondition);
}

TEST_CASE("sequential requests reuse one kept-alive connection") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  for (int i = 0; i < 5; ++i) {
    auto resp = r.block_on(http.request(get(reg.url("/v2/"))));
    REQUIRE(resp);
    CHECK(resp->status == 200);
  }
  CHECK(reg.connections() == 1);
}

TEST_CASE("concurrent requests to one host open several connections") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  std::vector<http_request> reqs;
  for (int i = 0; i < 4; ++i) reqs.push_back(get(reg.url("/slowish")));
  auto results = r.block_on(all(http, std::move(reqs)));
  for (auto& res : results) {
    REQUIRE(res);
    CHECK(res->body == "ok");
  }
  CHECK(reg.connections() == 4);
}

TEST_CASE("max_host_connections caps the connections to one host") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_options options;
  options.max_host_connections = 2;
  http_client http(options);
  std::vector<http_request> reqs;
  for (int i = 0; i < 6; ++i) reqs.push_back(get(reg.url("/slowish")));
  auto results = r.block_on(all(http, std::move(reqs)));
  for (auto& res : results) REQUIRE(res);
  CHECK(reg.connections() <= 2);
}

TEST_CASE("a redirect to another host is followed without the Authorization header") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  std::string got;
  auto req = get(reg.url("/v2/test/repo/blobs/" + reg.blob_digest("redirected")));
  req.headers.push_back("Authorization: Bearer secret-token");
  req.sink = collect_into(got);
  auto resp = r.block_on(http.request(std::move(req)));
  REQUIRE(resp);
  CHECK(resp->status == 200);
  CHECK(contains(resp->url, reg.host("redirect")));
  CHECK(registry_detail::sha256_digest_of(got) == reg.blob_digest("redirected"));

  auto log = reg.stats()["log"];
  REQUIRE(log.size() == 2);
  CHECK(log[0]["server"] == "main");
  CHECK(log[0]["authorization"] == "Bearer secret-token");
  CHECK(log[1]["server"] == "redirect");
  CHECK(log[1]["authorization"].is_null());
}

TEST_CASE("a chunked body is read whole") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  auto resp = r.block_on(http.request(get(reg.url("/chunked"))));
  REQUIRE(resp);
  CHECK(resp->header("transfer-encoding") == "chunked");
  CHECK(registry_detail::sha256_digest_of(resp->body) == reg.blob_digest("chunked"));
}

TEST_CASE("POST sends its body") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  auto req = get(reg.url("/echo"));
  req.method = http_method::post;
  req.body = "grant_type=x&y=z";
  req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  auto resp = r.block_on(http.request(std::move(req)));
  REQUIRE(resp);
  auto echo = nlohmann::json::parse(resp->body);
  CHECK(echo["method"] == "POST");
  CHECK(echo["body"] == "grant_type=x&y=z");
}

TEST_CASE("a request past its timeout fails with DEADLINE_EXCEEDED naming the host") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  auto req = get(reg.url("/slow"));
  req.timeout = 300ms;
  auto resp = r.block_on(http.request(std::move(req)));
  REQUIRE_FALSE(resp);
  CHECK(resp.error().kind() == error_kind::deadline_exceeded);
  CHECK(contains(resp.error().message(), reg.host()));
  CHECK(contains(resp.error().message(), "GET " + reg.url("/slow")));
}

TEST_CASE("a stalled transfer is aborted by the low-speed limit") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_options options;
  options.low_speed_bytes = 100;
  options.low_speed_time = 1s;
  http_client http(options);
  auto resp = r.block_on(http.request(get(reg.url("/trickle"))));
  REQUIRE_FALSE(resp);
  CHECK(resp.error().kind() == error_kind::deadline_exceeded);
  CHECK(contains(resp.error().message(), reg.host()));
}

TEST_CASE("connection refused is UNAVAILABLE naming the host and the URL") {
  io::reactor r;
  http_client http;
  std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/v2/";
  auto resp = r.block_on(http.request(get(url)));
  REQUIRE_FALSE(resp);
  CHECK(resp.error().kind() == error_kind::unavailable);
  CHECK(contains(resp.error().message(), "cannot connect to 127.0.0.1:"));
  CHECK(contains(resp.error().message(), url));
}

TEST_CASE("an unresolvable host is UNAVAILABLE") {
  io::reactor r;
  http_client http;
  auto resp = r.block_on(http.request(get("http://ringcri-test.invalid/v2/")));
  REQUIRE_FALSE(resp);
  CHECK(resp.error().kind() == error_kind::unavailable);
  CHECK(contains(resp.error().message(), "ringcri-test.invalid"));
}

TEST_CASE("cancellation aborts a transfer with CANCELLED and the client goes on") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  // /slow answers 200 after 30 s: only the cancellation ends the request
  // with an error.
  auto resp = r.block_on([](http_client& http, std::string url) -> io::task<result<http_response>> {
    io::cancellation cancel;
    auto request = [](http_client& http, std::string url,
                      io::cancellation& c) -> io::task<result<http_response>> {
      auto req = get(std::move(url));
      req.cancel = &c;
      co_return co_await http.request(std::move(req));
    };
    auto canceller = [](io::cancellation& c) -> io::task<void> {
      co_await io::sleep_for(50ms);
      c.cancel();
    };
    auto [got, _] = co_await io::when_all(request(http, url, cancel), canceller(cancel));
    co_return std::move(got);
  }(http, reg.url("/slow")));
  REQUIRE_FALSE(resp);
  CHECK(resp.error().kind() == error_kind::cancelled);

  auto next = r.block_on(http.request(get(reg.url("/v2/"))));
  REQUIRE(next);
  CHECK(next->status == 200);
}

TEST_CASE("a request whose token is already cancelled fails at once") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  io::cancellation cancel;
  cancel.cancel();
  auto req = get(reg.url("/v2/"));
  req.cancel = &cancel;
  auto resp = r.block_on(http.request(std::move(req)));
  REQUIRE_FALSE(resp);
  CHECK(resp.error().kind() == error_kind::cancelled);
  CHECK(reg.stats()["log"].empty());
}

TEST_CASE("destroying a request in flight takes its transfer out of the client") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  {
    auto t = http.request(get(reg.url("/slow")));
    r.block_on([](io::task<result<http_response>>& t) -> io::task<void> {
      t.handle().resume();  // starts the transfer
      co_await io::sleep_for(50ms);
    }(t));
  }  // destroyed here, mid-transfer
  auto next = r.block_on(http.request(get(reg.url("/v2/"))));
  REQUIRE(next);
  CHECK(next->status == 200);
}

TEST_CASE("a collected body larger than its cap fails the request") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  auto req = get(reg.url("/v2/test/repo/blobs/" + reg.blob_digest("layer2")));
  req.max_body = 1000;
  auto resp = r.block_on(http.request(std::move(req)));
  REQUIRE_FALSE(resp);
  CHECK(resp.error().kind() == error_kind::failed_precondition);
  CHECK(contains(resp.error().message(), "larger than 1000 bytes"));
}

TEST_CASE("a sink's error aborts the transfer and is the request's error") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  int calls = 0;
  auto req = get(reg.url("/v2/test/repo/blobs/" + reg.blob_digest("layer2")));
  req.sink = [&](std::span<const std::byte>) -> result<sink_flow> {
    ++calls;
    return fail(error_kind::resource_exhausted, "disk full");
  };
  auto resp = r.block_on(http.request(std::move(req)));
  REQUIRE_FALSE(resp);
  CHECK(calls == 1);
  CHECK(resp.error().kind() == error_kind::resource_exhausted);
  CHECK(contains(resp.error().message(), "disk full"));
}

TEST_CASE("on_response sees the status and headers before the first bytes") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  long seen_status = 0;
  std::string seen_range;
  std::string got;
  auto req = get(reg.url("/v2/test/repo/blobs/" + reg.blob_digest("layer1")));
  req.headers.push_back("Range: bytes=100-");
  req.on_response = [&](const http_response& resp) -> result<void> {
    seen_status = resp.status;
    seen_range = std::string(resp.header("content-range").value_or(""));
    CHECK(got.empty());
    return {};
  };
  req.sink = collect_into(got);
  auto resp = r.block_on(http.request(std::move(req)));
  REQUIRE(resp);
  CHECK(seen_status == 206);
  auto size = reg.blob_size("layer1");
  CHECK(seen_range == "bytes 100-" + std::to_string(size - 1) + "/" + std::to_string(size));
  CHECK(got.size() == static_cast<std::size_t>(size - 100));
}
