// The container's argv, env and working dir from the request and the image
// config: kubelet's and containerd's rules.

#include "cri/spec/process.hpp"

#include <catch2/catch.hpp>

using namespace ringcri::cri::spec;
using ringcri::error_kind;
using json = nlohmann::json;
using strings = std::vector<std::string>;

namespace {

runtime::v1::ContainerConfig config_with(const strings& command, const strings& args) {
  runtime::v1::ContainerConfig c;
  for (const auto& s : command) c.add_command(s);
  for (const auto& s : args) c.add_args(s);
  return c;
}

json image(json entrypoint, json cmd) {
  json j = {{"config", json::object()}};
  if (!entrypoint.is_null()) j["config"]["Entrypoint"] = entrypoint;
  if (!cmd.is_null()) j["config"]["Cmd"] = cmd;
  return j;
}

}  // namespace

TEST_CASE("no command and no args: image entrypoint then image cmd", "[process]") {
  auto a = process_args(config_with({}, {}), image({"/entry", "-x"}, {"cmd1", "cmd2"}));
  REQUIRE(a);
  CHECK(*a == strings{"/entry", "-x", "cmd1", "cmd2"});
}

TEST_CASE("args without command: image entrypoint then the request's args", "[process]") {
  auto a = process_args(config_with({}, {"a1"}), image({"/entry"}, {"cmd1"}));
  REQUIRE(a);
  CHECK(*a == strings{"/entry", "a1"});
}

TEST_CASE("a command ignores the image's entrypoint and cmd", "[process]") {
  auto a = process_args(config_with({"/bin/sh"}, {}), image({"/entry"}, {"cmd1"}));
  REQUIRE(a);
  CHECK(*a == strings{"/bin/sh"});
  auto b = process_args(config_with({"/bin/sh"}, {"-c", "true"}), image({"/entry"}, {"cmd1"}));
  REQUIRE(b);
  CHECK(*b == strings{"/bin/sh", "-c", "true"});
}

TEST_CASE("only an image cmd: it is the argv", "[process]") {
  auto a = process_args(config_with({}, {}), image(nullptr, {"/bin/sh", "-c", "sleep 1"}));
  REQUIRE(a);
  CHECK(*a == strings{"/bin/sh", "-c", "sleep 1"});
}

TEST_CASE("an entrypoint of one empty string counts as none", "[process]") {
  auto a = process_args(config_with({}, {}), image({""}, {"/bin/true"}));
  REQUIRE(a);
  CHECK(*a == strings{"/bin/true"});
}

TEST_CASE("nothing to run is INVALID_ARGUMENT", "[process]") {
  auto a = process_args(config_with({}, {}), image(nullptr, nullptr));
  REQUIRE(!a);
  CHECK(a.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(a.error().message(), Catch::Contains("no command specified"));
  auto b = process_args(config_with({}, {}), json::object());
  REQUIRE(!b);
  auto c = process_args(config_with({}, {}), image(json::array(), json::array()));
  REQUIRE(!c);
}

TEST_CASE("a malformed image Cmd is an error naming the field", "[process]") {
  auto a = process_args(config_with({}, {}), image(nullptr, "not a list"));
  REQUIRE(!a);
  CHECK(a.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(a.error().message(), Catch::Contains("Cmd"));
}

TEST_CASE("env: PATH default and HOSTNAME first, image env, then the request's", "[process]") {
  runtime::v1::ContainerConfig c;
  auto* kv = c.add_envs();
  kv->set_key("B");
  kv->set_value("from request");
  kv = c.add_envs();
  kv->set_key("C");
  kv->set_value("3");
  json img = {{"config", {{"Env", {"A=1", "B=from image"}}}}};
  auto e = process_env(c, img, "pod-host");
  REQUIRE(e);
  CHECK(*e == strings{std::string(default_path_env), "HOSTNAME=pod-host", "A=1", "B=from request",
                      "C=3"});
}

TEST_CASE("env: an image PATH replaces the default where it stands", "[process]") {
  runtime::v1::ContainerConfig c;
  json img = {{"config", {{"Env", {"X=1", "PATH=/opt/bin"}}}}};
  auto e = process_env(c, img, "h");
  REQUIRE(e);
  CHECK(*e == strings{"PATH=/opt/bin", "HOSTNAME=h", "X=1"});
}

TEST_CASE("env: the request can override HOSTNAME and PATH", "[process]") {
  runtime::v1::ContainerConfig c;
  auto* kv = c.add_envs();
  kv->set_key("HOSTNAME");
  kv->set_value("mine");
  kv = c.add_envs();
  kv->set_key("PATH");
  kv->set_value("/x");
  auto e = process_env(c, json::object(), "h");
  REQUIRE(e);
  CHECK(*e == strings{"PATH=/x", "HOSTNAME=mine"});
}

TEST_CASE("env: an empty value is kept, an empty key refused", "[process]") {
  runtime::v1::ContainerConfig c;
  auto* kv = c.add_envs();
  kv->set_key("EMPTY");
  auto e = process_env(c, json::object(), "h");
  REQUIRE(e);
  CHECK(e->back() == "EMPTY=");
  kv->set_key("");
  kv->set_value("v");
  auto bad = process_env(c, json::object(), "h");
  REQUIRE(!bad);
  CHECK(bad.error().kind() == error_kind::invalid_argument);
}

TEST_CASE("replace_or_append_env: a bare key unsets, a later set returns to its place",
          "[process]") {
  strings env{"A=1", "B=2", "C=3"};
  replace_or_append_env(env, {"B", "D=4"});
  CHECK(env == strings{"A=1", "C=3", "D=4"});
  strings env2{"A=1", "B=2", "C=3"};
  replace_or_append_env(env2, {"B", "B=again"});
  CHECK(env2 == strings{"A=1", "B=again", "C=3"});
  strings env3{"A=1"};
  replace_or_append_env(env3, {"A=2", "A=3", "Z"});
  CHECK(env3 == strings{"A=3"});
}

TEST_CASE("working dir: request, else image, else /", "[process]") {
  runtime::v1::ContainerConfig c;
  json img = {{"config", {{"WorkingDir", "/srv"}}}};
  CHECK(*process_cwd(c, img) == "/srv");
  CHECK(*process_cwd(c, json::object()) == "/");
  CHECK(*process_cwd(c, json{{"config", {{"WorkingDir", ""}}}}) == "/");
  c.set_working_dir("/work");
  CHECK(*process_cwd(c, img) == "/work");
}
