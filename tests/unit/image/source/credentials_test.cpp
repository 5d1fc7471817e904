#include "image/source/credentials.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace ringcri;
using namespace ringcri::image;

namespace {

credentials from_auth(std::string_view auth) {
  auto c = credentials_from("", "", auth, "", "");
  REQUIRE(c);
  return *c;
}

}  // namespace

TEST_CASE("without auth the fields pass through") {
  auto c = credentials_from("user", "pass", "", "refresh", "bearer");
  REQUIRE(c);
  CHECK(c->username == "user");
  CHECK(c->password == "pass");
  CHECK(c->identity_token == "refresh");
  CHECK(c->registry_token == "bearer");
  CHECK_FALSE(c->empty());

  auto none = credentials_from("", "", "", "", "");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("auth decodes to username and password, whatever its padding") {
  // base64("user:pass") needs no padding, ("user:pas") one '=', ("user:pa") two.
  auto c0 = from_auth("dXNlcjpwYXNz");
  CHECK(c0.username == "user");
  CHECK(c0.password == "pass");
  auto c1 = from_auth("dXNlcjpwYXM=");
  CHECK(c1.username == "user");
  CHECK(c1.password == "pas");
  auto c2 = from_auth("dXNlcjpwYQ==");
  CHECK(c2.username == "user");
  CHECK(c2.password == "pa");
  // Unpadded forms decode the same.
  CHECK(from_auth("dXNlcjpwYXM").password == "pas");
  CHECK(from_auth("dXNlcjpwYQ").password == "pa");
}

TEST_CASE("auth splits at the first ':'; the password may hold ':' and be empty") {
  auto c = from_auth("dTpwOnc6eA==");  // "u:p:w:x"
  CHECK(c.username == "u");
  CHECK(c.password == "p:w:x");
  auto empty_password = from_auth("dXNlcjo=");  // "user:"
  CHECK(empty_password.username == "user");
  CHECK(empty_password.password.empty());
  auto empty_user = from_auth("OnNlY3JldA==");  // ":secret"
  CHECK(empty_user.username.empty());
  CHECK(empty_user.password == "secret");
}

TEST_CASE("auth decodes binary and long values exactly") {
  // A password whose encoding has '+' and '/', and bytes that are not text.
  auto c = from_auth("QVdTOn5+fj4+Pj///w==");  // "AWS:~~~>>>?\xff\xff"
  CHECK(c.username == "AWS");
  CHECK(c.password == "~~~>>>?\xff\xff");
}

TEST_CASE("auth overrides username and password and keeps the tokens") {
  auto c = credentials_from("other", "other", "dXNlcjpwYXNz", "refresh", "");
  REQUIRE(c);
  CHECK(c->username == "user");
  CHECK(c->password == "pass");
  CHECK(c->identity_token == "refresh");
}

TEST_CASE("bad auth is INVALID_ARGUMENT without echoing the secret") {
  for (std::string bad : {"not base64!", "dXNlcjpwYXNz=", "dXNlcjpwYQ=", "dXNlcjpwYQ===", "a",
                          "dXNl cjpwYXNz", "dXN=lcjpw", "=", "dXNlcjpwYXNz\n"}) {
    INFO(bad);
    auto c = credentials_from("", "", bad, "", "");
    REQUIRE_FALSE(c);
    CHECK(c.error().kind() == error_kind::invalid_argument);
    CHECK(c.error().message() == "registry auth is not valid base64");
  }
  auto no_colon = credentials_from("", "", "dXNlcnBhc3M=", "", "");  // "userpass"
  REQUIRE_FALSE(no_colon);
  CHECK(no_colon.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(no_colon.error().message(), Catch::Contains("no ':'"));
  CHECK_THAT(no_colon.error().message(), !Catch::Contains("userpass"));
}
