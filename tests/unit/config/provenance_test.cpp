// Where each config value came from (key_lines), errors that name the
// line, and the effective config written back as TOML (to_toml).

#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/to_toml.hpp"

using namespace ringcri;

namespace {

// `text` without its comments: what a parser sees.
std::string without_comments(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("#")) continue;
    // No value to_toml writes holds "  # from".
    if (auto at = line.find("  # from "); at != std::string::npos) line.erase(at);
    out += line + '\n';
  }
  return out;
}

const char* const full_file = R"(root = "/srv/ringcri"
cores = 2

log_level = "debug"
pids_limit = 100
[registry]
config_path = "/srv/certs.d"
[registry.auths."https://index.docker.io/v1/"]
username = "hub"
password = "hunter2"
[registry.auths."r.io:5000"]
auth = "dXNlcjpwYXNz"
[image]
layer_store = "dir"
pull_progress_timeout = "1m30s"
[cni]
plugin_dirs = ["/a", "/b"]
native = "off"
[runtimes.strict]
seccomp_profile = "runtime/default"
[runtimes."with space"]
)";

}  // namespace

TEST_CASE("key_lines: the line of every key a file set, by its key path") {
  config::key_lines lines;
  auto c = config::parse(full_file, "f.toml", {}, lines);
  INFO((c ? std::string() : c.error().message()));
  REQUIRE(c);
  CHECK(lines.at("root") == 1);
  CHECK(lines.at("cores") == 2);
  CHECK(lines.at("log_level") == 4);
  CHECK(lines.at("registry.config_path") == 7);
  // Under the host the parser reduces the key to, quoted as TOML needs.
  CHECK(lines.at("registry.auths.\"docker.io\".username") == 9);
  CHECK(lines.at("registry.auths.\"r.io:5000\".auth") == 12);
  CHECK(lines.at("image.pull_progress_timeout") == 15);
  CHECK(lines.at("cni.plugin_dirs") == 17);
  CHECK(lines.at("runtimes.strict.seccomp_profile") == 20);
  CHECK(lines.count("runtimes.\"with space\"") == 1);
  CHECK(lines.count("state") == 0);
  CHECK(lines.count("image.max_layer_bytes") == 0);
  // The values are parse()'s.
  CHECK(c->registry.auths.at("docker.io").username == "hub");
  CHECK(c->image.pull_progress_timeout_seconds == 90);
}

TEST_CASE("key_path quotes what TOML cannot write bare") {
  CHECK(config::key_path("", "root") == "root");
  CHECK(config::key_path("image", "layer_store") == "image.layer_store");
  CHECK(config::key_path("registry.auths", "r.io:5000") == "registry.auths.\"r.io:5000\"");
  CHECK(config::key_path("runtimes", "a\"b") == "runtimes.\"a\\\"b\"");
}

TEST_CASE("with key_lines, an error names the line of its key; without, it is parse()'s") {
  struct bad {
    const char* text;
    const char* located;
  };
  const std::vector<bad> cases = {
      {"cores = 2\nsokcet = \"/x\"\n", "b.toml:2: unknown key 'sokcet'"},
      {"cores = 2\n\ncores_x = 1\n", "b.toml:3: unknown key 'cores_x'"},
      {"[image]\n\nlayer_store = 1\n",
       "b.toml:3: key 'image.layer_store' must be \"auto\", \"dir\" or \"erofs\""},
      {"root = \"/r\"\ncores = \"two\"\n",
       "b.toml:2: key 'cores' must be an integer from 0 to 1024"},
      {"[registry.auths.\"r.io\"]\nusername = \"u\"\npassword = 1\n",
       "b.toml:3: key 'registry.auths.\"r.io\".password' must be a string"},
      {"[cni]\nbin_dir = \"/x\"\n", "b.toml:2: unknown key 'cni.bin_dir'"},
      {"[runtimes.a]\nseccomp_profile = \"strict\"\n",
       "b.toml:2: key 'runtimes.a.seccomp_profile' must be \"runtime/default\" or \"unconfined\""},
      // What validate() finds names the key too.
      {"cores = 1\nlog_level = \"loud\"\n",
       "b.toml:2: log_level 'loud' is not one of trace, debug, info, warn, error, critical, off"},
      {"[registry]\nconfig_path = \"certs.d\"\n",
       "b.toml:2: registry.config_path 'certs.d' must be an absolute path"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    config::key_lines lines;
    auto located = config::parse(c.text, "b.toml", {}, lines);
    REQUIRE_FALSE(located);
    CHECK(located.error().kind() == error_kind::invalid_argument);
    CHECK(located.error().message() == c.located);
    // parse() alone says the same without the line.
    auto plain = config::parse(c.text, "b.toml");
    REQUIRE_FALSE(plain);
    std::string expected = c.located;
    expected.erase(expected.find(':'), expected.find(": ") - expected.find(':'));
    CHECK(plain.error().message() == expected);
  }
  // A syntax error has its line (and column) either way.
  config::key_lines lines;
  auto syntax = config::parse("cores = 1\n[image\n", "b.toml", {}, lines);
  REQUIRE_FALSE(syntax);
  CHECK_THAT(syntax.error().message(), Catch::StartsWith("b.toml:2:"));
}

TEST_CASE("to_toml writes every key with its origin, and parse reads it back to the same values") {
  config::key_lines lines;
  auto c = config::parse(full_file, "f.toml", {}, lines);
  REQUIRE(c);
  c->state_dir = "/run/flagged";
  config::key_origins origins;
  for (const auto& [path, line] : lines) origins[path] = "f.toml:" + std::to_string(line);
  origins["state"] = "flag --state";
  const std::string text = config::to_toml(*c, origins);
  INFO(text);

  CHECK_THAT(text, Catch::Contains("root = \"/srv/ringcri\"  # from f.toml:1\n"));
  CHECK_THAT(text, Catch::Contains("state = \"/run/flagged\"  # from flag --state\n"));
  CHECK_THAT(text, Catch::Contains("socket = \"/run/flagged/ringcri.sock\"  # from default"));
  CHECK_THAT(text, Catch::Contains("stream_server_port = 0  # from default\n"));
  CHECK_THAT(text, Catch::Contains("\n[image]\n"));
  CHECK_THAT(text, Catch::Contains("pull_progress_timeout = 90  # from f.toml:15\n"));
  CHECK_THAT(text, Catch::Contains("max_layer_bytes = 17179869184  # from default\n"));
  CHECK_THAT(text, Catch::Contains("plugin_dirs = [\"/a\", \"/b\"]  # from f.toml:17\n"));
  CHECK_THAT(text, Catch::Contains("native = \"off\"  # from f.toml:18\n"));
  CHECK_THAT(text, Catch::Contains("[registry.auths.\"docker.io\"]  # from f.toml:8\nusername = "
                                   "\"hub\"  # from f.toml:9\n"));
  CHECK_THAT(text, Catch::Contains("[runtimes.strict]  # from f.toml:19\n"));
  CHECK_THAT(
      text,
      Catch::Contains(
          "[runtimes.\"with space\"]  # from f.toml:21\nseccomp_profile = \"\"  # from default\n"));
  // Secrets: whether they are set, never what they are.
  CHECK_THAT(text, Catch::Contains("# password is set (not shown)  # from f.toml:10\n"));
  CHECK_THAT(text, Catch::Contains("# auth is set (not shown)  # from f.toml:12\n"));
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.find("dXNlcjpwYXNz") == std::string::npos);

  auto back = config::parse(text, "printed.toml");
  INFO((back ? std::string() : back.error().message()));
  REQUIRE(back);
  CHECK(back->root_dir == "/srv/ringcri");
  CHECK(back->state_dir == "/run/flagged");
  CHECK(back->cores == 2);
  CHECK(back->pids_limit == 100);
  CHECK(back->image.layer_store == "dir");
  CHECK(back->image.pull_progress_timeout_seconds == 90);
  CHECK_FALSE(back->cni.native);
  CHECK(back->runtime_handler("strict")->seccomp_profile == "runtime/default");
  CHECK(back->runtime_handler("with space") != nullptr);
  CHECK(back->registry.auths.at("docker.io").username == "hub");
  CHECK(back->registry.auths.at("docker.io").password.empty());
  // Every value the text holds, and only those: written again, the same
  // text but for where the values came from.
  auto secrets_dropped = *c;
  for (auto& [host, auth] : secrets_dropped.registry.auths) auth = {auth.username, "", "", ""};
  CHECK(without_comments(config::to_toml(*back, {})) ==
        without_comments(config::to_toml(secrets_dropped, {})));
}

TEST_CASE("to_toml of the defaults parses back to the defaults") {
  const config::config defaults;
  const std::string text = config::to_toml(defaults, {});
  auto back = config::parse(text, "defaults.toml");
  INFO(text);
  INFO((back ? std::string() : back.error().message()));
  REQUIRE(back);
  CHECK(without_comments(config::to_toml(*back, {})) == without_comments(text));
  CHECK(back->socket_path() == defaults.socket_path());
  CHECK(back->registry.auths.empty());
  CHECK(back->runtimes.empty());
}

TEST_CASE("toml_string escapes what a TOML string cannot hold as is") {
  CHECK(config::toml_string("plain") == "\"plain\"");
  CHECK(config::toml_string("a\"b\\c\td\n\x01") == "\"a\\\"b\\\\c\\td\\n\\u0001\"");
  config::config c;
  c.root_dir = "/odd \"dir\"\\\t\x7f";
  auto back = config::parse(config::to_toml(c, {}), "odd.toml");
  REQUIRE(back);
  CHECK(back->root_dir == c.root_dir);
}

#ifdef RINGCRI_EXAMPLE_CONFIG
// A key the parser reads is documented in etc/ringcri.toml (config_test
// checks that those parse): each must be written by to_toml too.
TEST_CASE("to_toml writes every key etc/ringcri.toml documents") {
  std::ifstream in(RINGCRI_EXAMPLE_CONFIG);
  REQUIRE(in);
  // With one entry of each keyed table, whose keys are written per entry.
  config::config c;
  c.registry.auths["registry.example.com"] = {};
  c.runtimes["hardened"] = {};
  const std::string text = config::to_toml(c, {});
  const std::regex documented(R"(^# ?([a-z_]+) = )");
  int keys = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, documented)) continue;
    ++keys;
    INFO(m[1].str());
    CHECK(("\n" + text).find("\n" + m[1].str() + " = ") != std::string::npos);
  }
  CHECK(keys >= 20);
}
#endif
