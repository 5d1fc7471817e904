#include <catch2/catch.hpp>

#include "config/config.hpp"

using namespace ringcri;

TEST_CASE("an empty config keeps the embedded defaults") {
  auto c = config::parse("", "test.toml");
  REQUIRE(c);
  CHECK(c->root_dir == "/var/lib/ringcri");
  CHECK(c->state_dir == "/run/ringcri");
  CHECK(c->socket_path() == "/run/ringcri/ringcri.sock");
  CHECK(c->cores == 0);
  CHECK(c->log_level == "info");
}

TEST_CASE("every key overrides its default") {
  auto c = config::parse(R"(
root = "/srv/ringcri"
state = "/run/r2"
socket = "/run/r2/cri.sock"
cores = 1
log_level = "debug"
)",
                         "test.toml");
  REQUIRE(c);
  CHECK(c->root_dir == "/srv/ringcri");
  CHECK(c->state_dir == "/run/r2");
  CHECK(c->socket_path() == "/run/r2/cri.sock");
  CHECK(c->cores == 1);
  CHECK(c->log_level == "debug");
}

TEST_CASE("the socket follows the state dir unless set") {
  auto c = config::parse("state = \"/run/elsewhere\"", "t.toml");
  REQUIRE(c);
  CHECK(c->socket_path() == "/run/elsewhere/ringcri.sock");
}

TEST_CASE("errors name the file and the key") {
  auto unknown = config::parse("rot = \"/x\"", "/etc/ringcri/ringcri.toml");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().kind() == error_kind::invalid_argument);
  CHECK(unknown.error().message() == "/etc/ringcri/ringcri.toml: unknown key 'rot'");

  auto wrong_type = config::parse("cores = \"two\"", "a.toml");
  REQUIRE_FALSE(wrong_type);
  CHECK_THAT(wrong_type.error().message(), Catch::Contains("a.toml") && Catch::Contains("'cores'"));

  auto relative = config::parse("root = \"var/lib\"", "b.toml");
  REQUIRE_FALSE(relative);
  CHECK_THAT(relative.error().message(), Catch::Contains("b.toml") && Catch::Contains("absolute"));

  auto level = config::parse("log_level = \"loud\"", "c.toml");
  REQUIRE_FALSE(level);
  CHECK_THAT(level.error().message(), Catch::Contains("loud"));

  auto syntax = config::parse("root = ", "d.toml");
  REQUIRE_FALSE(syntax);
  CHECK_THAT(syntax.error().message(), Catch::StartsWith("d.toml:1:"));
}

TEST_CASE("a missing file is an error naming it") {
  auto c = config::load_file("/nonexistent/ringcri.toml");
  REQUIRE_FALSE(c);
  CHECK(c.error().kind() == error_kind::not_found);
  CHECK_THAT(c.error().message(), Catch::Contains("/nonexistent/ringcri.toml"));
}
