// HTTPS: the system store plus an endpoint's CA files, skip_verify, and
// client certificates, against fake_registry.py's TLS servers.

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fake_registry.hpp"
#include "image/registry/http_client.hpp"
#include "reactor/reactor.hpp"

using namespace ringcri;
using namespace ringcri::image;
namespace io = ringcri::reactor;
using registry_test::fake_registry;

namespace {

// The TLS servers need the openssl tool to make their certificates.
fake_registry& tls_registry() {
  if (std::system("openssl version >/dev/null 2>&1") != 0) {
    std::puts("SKIP: no openssl command to make test certificates");
    std::exit(77);
  }
  static fake_registry r(/*tls=*/true);
  return r;
}

std::string https(const fake_registry& reg, const char* which, const std::string& path) {
  return "https://" + reg.host(which) + path;
}

result<http_response> run(http_client& http, io::reactor& r, std::string url, tls_options tls) {
  http_request req;
  req.url = std::move(url);
  req.tls = std::move(tls);
  return r.block_on(http.request(std::move(req)));
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a server signed by an endpoint's CA file is trusted") {
  auto& reg = tls_registry();
  io::reactor r;
  http_client http;
  tls_options tls;
  tls.ca_files.push_back(reg.info("ca"));
  auto resp = run(http, r, https(reg, "tls", "/v2/"), tls);
  REQUIRE(resp);
  CHECK(resp->status == 200);
}

TEST_CASE("a server signed by an unknown CA is UNAVAILABLE naming the host") {
  auto& reg = tls_registry();
  io::reactor r;
  http_client http;
  auto resp = run(http, r, https(reg, "tls", "/v2/"), {});
  REQUIRE_FALSE(resp);
  CHECK(resp.error().kind() == error_kind::unavailable);
  CHECK(contains(resp.error().message(), "TLS certificate of " + reg.host("tls") + " not trusted"));
}

TEST_CASE("skip_verify accepts any certificate") {
  auto& reg = tls_registry();
  io::reactor r;
  http_client http;
  tls_options tls;
  tls.skip_verify = true;
  auto resp = run(http, r, https(reg, "tls", "/v2/"), tls);
  REQUIRE(resp);
  CHECK(resp->status == 200);
}

TEST_CASE("a client certificate is presented to a server that asks for one") {
  auto& reg = tls_registry();
  io::reactor r;
  http_client http;
  tls_options tls;
  tls.ca_files.push_back(reg.info("ca"));
  tls.client_cert = {reg.info("client_cert"), reg.info("client_key")};
  auto resp = run(http, r, https(reg, "mtls", "/v2/"), tls);
  REQUIRE(resp);
  CHECK(resp->status == 200);

  http_client other;
  tls_options without;
  without.ca_files.push_back(reg.info("ca"));
  auto refused = run(other, r, https(reg, "mtls", "/v2/"), without);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind() == error_kind::unavailable);
}

TEST_CASE("a CA file that cannot be read fails the request naming it") {
  auto& reg = tls_registry();
  io::reactor r;
  http_client http;
  tls_options tls;
  tls.ca_files.push_back("/nonexistent/ca.crt");
  auto resp = run(http, r, https(reg, "tls", "/v2/"), tls);
  REQUIRE_FALSE(resp);
  CHECK(resp.error().kind() == error_kind::failed_precondition);
  CHECK(contains(resp.error().message(), "/nonexistent/ca.crt"));
}

TEST_CASE("a CA file without certificates fails the request naming it") {
  auto& reg = tls_registry();
  io::reactor r;
  http_client http;
  tls_options tls;
  tls.ca_files.push_back(reg.info("client_key"));  // a key, not a certificate
  auto resp = run(http, r, https(reg, "tls", "/v2/"), tls);
  REQUIRE_FALSE(resp);
  CHECK(resp.error().kind() == error_kind::failed_precondition);
  CHECK(contains(resp.error().message(), "no PEM certificate"));
}

TEST_CASE("an endpoint's CA files are trusted for that request only, not client-wide") {
  auto& reg = tls_registry();
  io::reactor r;
  http_client http;  // one client: one curl multi, one CA cache
  tls_options with_ca;
  with_ca.ca_files.push_back(reg.info("ca"));
  auto trusted = run(http, r, https(reg, "tls", "/v2/"), with_ca);
  REQUIRE(trusted);

  // Another host:port (no connection to reuse) without the CA file: the
  // certificate must not be trusted because an earlier request trusted it.
  tls_options without;
  without.client_cert = {reg.info("client_cert"), reg.info("client_key")};
  auto refused = run(http, r, https(reg, "mtls", "/v2/"), without);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind() == error_kind::unavailable);
  CHECK(contains(refused.error().message(), "not trusted"));
}
