// WWW-Authenticate parsing, and the auth flows (bearer, basic, identity
// token, registry token, token cache) against fake_registry.py.

#include "image/registry/auth.hpp"

#include <catch2/catch.hpp>
#include <thread>

#include "image/registry/auth_challenge.hpp"
#include "image/registry/registry_client.hpp"
#include "reactor/reactor.hpp"
#include "registry_test_util.hpp"

using namespace ringcri;
using namespace ringcri::image;
namespace io = ringcri::reactor;
using namespace std::chrono_literals;
using namespace registry_test;

TEST_CASE("a Bearer challenge's parameters are parsed, quoted or not") {
  auto all = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:library/busybox:pull")");
  REQUIRE(all.size() == 1);
  CHECK(all[0].scheme == "bearer");
  CHECK(all[0].param("realm") == "https://auth.docker.io/token");
  CHECK(all[0].param("service") == "registry.docker.io");
  CHECK(all[0].param("scope") == "repository:library/busybox:pull");

  auto plain = parse_www_authenticate("BEARER Realm=tok ,  Service = svc");
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].scheme == "bearer");
  CHECK(plain[0].param("realm") == "tok");
  CHECK(plain[0].param("service") == "svc");
}

TEST_CASE("several challenges in one header, commas and escapes inside quotes") {
  auto all =
      parse_www_authenticate(R"(Bearer realm="a,b", scope="repository:x:pull repository:y:pull", )"
                             R"(Basic realm="say \"hi\"")");
  REQUIRE(all.size() == 2);
  CHECK(all[0].scheme == "bearer");
  CHECK(all[0].param("realm") == "a,b");
  CHECK(all[0].param("scope") == "repository:x:pull repository:y:pull");
  CHECK(all[1].scheme == "basic");
  CHECK(all[1].param("realm") == "say \"hi\"");

  auto token68 = parse_www_authenticate(R"(Negotiate abc==, Basic realm="r")");
  REQUIRE(token68.size() == 2);
  CHECK(token68[0].scheme == "negotiate");
  CHECK(token68[0].params.empty());
  CHECK(token68[1].param("realm") == "r");

  CHECK(parse_www_authenticate("").empty());
  CHECK(basic_authorization(alice()) == "Basic YWxpY2U6c2VjcmV0");
}

TEST_CASE("a bearer challenge is answered with a token from the realm, which is cached") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto ref = ref_of(reg, "private/repo");
  auto creds = alice();

  auto first = r.block_on(client.resolve(ref, creds));
  REQUIRE(first);
  CHECK(first->digest == reg.manifest_digest("index"));
  auto second = r.block_on(client.resolve(ref, creds));
  REQUIRE(second);
  auto blob = r.block_on(client.fetch_blob(ref, creds, [&] {
    blob_fetch b;
    b.digest = reg.blob_digest("layer1");
    b.size = reg.blob_size("layer1");
    b.sink = [](std::span<const std::byte>) -> result<sink_flow> { return sink_flow::more; };
    return b;
  }()));
  REQUIRE(blob);

  CHECK(reg.stats()["token_requests"] == 1);
  CHECK(client.auth().tokens_fetched() == 1);
  auto tokens = requests_to(reg, "/token");
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0]["method"] == "GET");
  CHECK(tokens[0]["authorization"] == basic_authorization(creds));
  CHECK(tokens[0]["query"]["service"][0] == "fake-registry");
  CHECK(tokens[0]["query"]["scope"][0] == "repository:private/repo:pull");
  // The first request went anonymously and met the challenge; the others
  // carried the cached token from the start.
  auto manifests = requests_to(reg, "/v2/private/repo/manifests/latest");
  REQUIRE(manifests.size() == 3);
  CHECK(manifests[0]["authorization"].is_null());
  CHECK(contains(manifests[1]["authorization"].get<std::string>(), "Bearer tok-"));
  CHECK(manifests[2]["authorization"] == manifests[1]["authorization"]);
}

TEST_CASE("a wrong password is PERMISSION_DENIED naming the registry and the user") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto got = r.block_on(client.resolve(ref_of(reg, "private/repo"), alice("wrong")));
  REQUIRE_FALSE(got);
  CHECK(got.error().kind() == error_kind::permission_denied);
  CHECK(contains(got.error().message(), "refused as alice"));
  CHECK(contains(got.error().message(), reg.host()));
}

TEST_CASE("an anonymous pull of a private repository is PERMISSION_DENIED") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto got = r.block_on(client.resolve(ref_of(reg, "private/repo"), credentials{}));
  REQUIRE_FALSE(got);
  CHECK(got.error().kind() == error_kind::permission_denied);
  CHECK(contains(got.error().message(),
                 "registry " + reg.host() + " refused access to private/repo anonymously"));
}

TEST_CASE("tokens of different credentials are kept apart") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto ref = ref_of(reg, "private/repo");
  REQUIRE(r.block_on(client.resolve(ref, alice())));
  auto anonymous = r.block_on(client.resolve(ref, credentials{}));
  REQUIRE_FALSE(anonymous);  // alice's token is not lent to an anonymous pull
  CHECK(anonymous.error().kind() == error_kind::permission_denied);
}

TEST_CASE("an identity token is exchanged by the OAuth2 refresh_token POST") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  credentials creds;
  creds.identity_token = "refresh-me";
  auto got = r.block_on(client.resolve(ref_of(reg, "private/repo"), creds));
  REQUIRE(got);
  auto tokens = requests_to(reg, "/token");
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0]["method"] == "POST");
  CHECK(tokens[0]["authorization"].is_null());

  credentials bad;
  bad.identity_token = "expired";
  auto refused = r.block_on(client.resolve(ref_of(reg, "private/other"), bad));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind() == error_kind::permission_denied);
  CHECK(contains(refused.error().message(), "with an identity token"));
}

TEST_CASE("basic auth sends the credentials, up front once challenged") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto ref = ref_of(reg, "basic/repo");
  REQUIRE(r.block_on(client.resolve(ref, alice())));
  REQUIRE(r.block_on(client.resolve(ref, alice())));
  auto manifests = requests_to(reg, "/v2/basic/repo/manifests/");
  REQUIRE(manifests.size() == 3);
  CHECK(manifests[0]["authorization"].is_null());
  CHECK(manifests[1]["authorization"] == basic_authorization(alice()));
  CHECK(manifests[2]["authorization"] == basic_authorization(alice()));
  CHECK(reg.stats()["token_requests"] == 0);

  http_client fresh_http;
  registry_client fresh(fresh_http, fixed({reg.endpoint()}));
  auto none = r.block_on(fresh.resolve(ref, credentials{}));
  REQUIRE_FALSE(none);
  CHECK(none.error().kind() == error_kind::permission_denied);
  CHECK(contains(none.error().message(), "requires a username and password for basic/repo"));

  auto wrong = r.block_on(fresh.resolve(ref, alice("nope")));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().kind() == error_kind::permission_denied);
}

TEST_CASE("a registry token is sent as the bearer token as is") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  credentials creds;
  creds.registry_token = "static-registry-token";
  REQUIRE(r.block_on(client.resolve(ref_of(reg, "rt/repo"), creds)));
  auto manifests = requests_to(reg, "/v2/rt/repo/manifests/");
  REQUIRE(manifests.size() == 1);
  CHECK(manifests[0]["authorization"] == "Bearer static-registry-token");
  CHECK(reg.stats()["token_requests"] == 0);

  creds.registry_token = "stale";
  auto refused = r.block_on(client.resolve(ref_of(reg, "rt/repo"), creds));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind() == error_kind::permission_denied);
  CHECK(contains(refused.error().message(), "refused the registry token"));
}

TEST_CASE("a token is fetched again once expires_in has run out") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto ref = ref_of(reg, "short/repo");  // tokens for short/ live 1 s
  REQUIRE(r.block_on(client.resolve(ref, alice())));
  CHECK(reg.stats()["token_requests"] == 1);
  // Past the token's life: the wait only makes sure expires_in has run out
  // (the cached token's reuse while fresh is the 300 s tokens' case above,
  // where no machine is slow enough to see one expire).
  std::this_thread::sleep_for(1200ms);
  REQUIRE(r.block_on(client.resolve(ref, alice())));
  CHECK(reg.stats()["token_requests"] == 2);
}

TEST_CASE("a blob redirected to storage elsewhere gets no registry token") {
  auto& reg = fake_registry::shared();
  reg.reset();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto ref = ref_of(reg, "private/repo");
  auto creds = alice();
  std::uint64_t bytes = 0;
  blob_fetch b;
  b.digest = reg.blob_digest("redirected");
  b.size = reg.blob_size("redirected");
  b.sink = [&](std::span<const std::byte> s) -> result<sink_flow> {
    bytes += s.size();
    return sink_flow::more;
  };
  auto got = r.block_on(client.fetch_blob(ref, creds, std::move(b)));
  REQUIRE(got);
  CHECK(bytes == static_cast<std::uint64_t>(reg.blob_size("redirected")));
  auto stored = requests_to(reg, "/data/");
  REQUIRE(stored.size() == 1);
  CHECK(stored[0]["server"] == "redirect");
  CHECK(stored[0]["authorization"].is_null());
  auto blobs = requests_to(reg, "/v2/private/repo/blobs/");
  REQUIRE(blobs.size() == 2);  // the anonymous try, then with the token
  CHECK(contains(blobs[1]["authorization"].get<std::string>(), "Bearer tok-"));
}
