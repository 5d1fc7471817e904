#include <catch2/catch.hpp>

#include "config/config.hpp"

#include <fstream>
#include <regex>
#include <string>
#include <vector>

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

// Regression (config-integer-from-float, found by the config fuzz target):
// an integer key given a float was cast to int64_t, undefined behaviour
// out of range. Integer keys take TOML integers only.
TEST_CASE("config-integer-from-float: integer keys refuse floats") {
  for (const char* text : {"pids_limit = 1e24", "pids_limit = 2.0", "cores = -1e300",
                           "stream_server_port = 10010.0", "cores = nan", "cores = inf"}) {
    INFO(text);
    auto c = config::parse(text, "e.toml");
    REQUIRE_FALSE(c);
    CHECK(c.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(c.error().message(), Catch::Contains("e.toml") && Catch::Contains("integer"));
  }
  auto fine = config::parse("pids_limit = 4096\ncores = 2", "f.toml");
  REQUIRE(fine);
  CHECK(fine->pids_limit == 4096);
  CHECK(fine->cores == 2);
}

TEST_CASE("a missing file is an error naming it") {
  auto c = config::load_file("/nonexistent/ringcri.toml");
  REQUIRE_FALSE(c);
  CHECK(c.error().kind() == error_kind::not_found);
  CHECK_THAT(c.error().message(), Catch::Contains("/nonexistent/ringcri.toml"));
}

TEST_CASE("[registry] defaults") {
  auto c = config::parse("", "test.toml");
  REQUIRE(c);
  CHECK(c->registry.config_path == "/etc/ringcri/certs.d");
  CHECK(c->registry.max_concurrent_downloads == 6);
  CHECK(c->registry.auths.empty());
}

TEST_CASE("[registry] keys override their defaults") {
  auto c = config::parse(R"(
[registry]
config_path = "/srv/certs.d"
max_concurrent_downloads = 64

[registry.auths."r.io:5000"]
username = "u"
password = "p"

[registry.auths."ghcr.io"]
auth = "dXNlcjpwYXNz"

[registry.auths."quay.io"]
identity_token = "refresh"
)",
                         "test.toml");
  REQUIRE(c);
  CHECK(c->registry.config_path == "/srv/certs.d");
  CHECK(c->registry.max_concurrent_downloads == 64);
  REQUIRE(c->registry.auths.size() == 3);
  CHECK(c->registry.auths.at("r.io:5000") == config::registry_auth{"u", "p", "", ""});
  CHECK(c->registry.auths.at("ghcr.io") == config::registry_auth{"", "", "dXNlcjpwYXNz", ""});
  CHECK(c->registry.auths.at("quay.io") == config::registry_auth{"", "", "", "refresh"});
}

TEST_CASE("[registry.auths] keys copied from a Docker config.json reduce to the host") {
  auto c = config::parse(R"(
[registry.auths."https://index.docker.io/v1/"]
username = "hub"
[registry.auths."http://r.io:5000/v2/"]
username = "r"
)",
                         "test.toml");
  REQUIRE(c);
  CHECK(c->registry.auths.at("docker.io").username == "hub");
  CHECK(c->registry.auths.at("r.io:5000").username == "r");

  auto twice = config::parse(R"(
[registry.auths."docker.io"]
username = "a"
[registry.auths."index.docker.io"]
username = "b"
)",
                             "t.toml");
  REQUIRE_FALSE(twice);
  CHECK_THAT(twice.error().message(),
             Catch::Contains("t.toml") && Catch::Contains("docker.io has credentials twice"));
}

TEST_CASE("[registry] errors name the file and the key path") {
  struct bad_case {
    std::string text;
    std::string message;
  };
  const std::vector<bad_case> cases = {
      {"[registry]\nconfig_dir = \"/x\"", "r.toml: unknown key 'registry.config_dir'"},
      {"[registry.auths.\"r.io\"]\npasword = \"x\"",
       "r.toml: unknown key 'registry.auths.\"r.io\".pasword'"},
      {"[registry.auths.\"r.io\"]\npassword = 1",
       "r.toml: key 'registry.auths.\"r.io\".password' must be a string"},
      {"[registry.auths]\n\"r.io\" = \"user:pass\"",
       "r.toml: key 'registry.auths.\"r.io\"' must be a table"},
      {"[registry.auths.\"https://\"]\nusername = \"u\"",
       "r.toml: key 'registry.auths.\"https://\"' names no registry host"},
      {"registry = 1", "r.toml: key 'registry' must be a table"},
      {"[registry]\nauths = []", "r.toml: key 'registry.auths' must be a table"},
      {"[registry]\nconfig_path = 1", "r.toml: key 'registry.config_path' must be a string"},
      {"[registry]\nconfig_path = \"certs.d\"",
       "r.toml: registry.config_path 'certs.d' must be an absolute path"},
      {"[registry]\nmax_concurrent_downloads = 0",
       "r.toml: key 'registry.max_concurrent_downloads' must be an integer from 1 to 64"},
      {"[registry]\nmax_concurrent_downloads = 65",
       "r.toml: key 'registry.max_concurrent_downloads' must be an integer from 1 to 64"},
      {"[registry]\nmax_concurrent_downloads = \"6\"",
       "r.toml: key 'registry.max_concurrent_downloads' must be an integer from 1 to 64"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = config::parse(c.text, "r.toml");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK(r.error().message() == c.message);
  }
}

TEST_CASE("validate checks [registry] values set by other means") {
  config::config c;
  c.registry.max_concurrent_downloads = 0;
  CHECK_FALSE(config::validate(c));
  c.registry.max_concurrent_downloads = 6;
  c.registry.config_path = "relative";
  CHECK_FALSE(config::validate(c));
  c.registry.config_path = "/abs";
  CHECK(config::validate(c));
}

TEST_CASE("[cni] and pids_limit: defaults, overrides and errors") {
  auto d = config::parse("", "t.toml");
  REQUIRE(d);
  CHECK(d->cni.conf_dir == "/etc/cni/net.d");
  CHECK(d->cni.plugin_dirs == std::vector<std::filesystem::path>{"/usr/lib/cni", "/opt/cni/bin"});
  CHECK(d->pids_limit == 0);

  auto c = config::parse(R"(
pids_limit = 1024
[cni]
conf_dir = "/srv/net.d"
plugin_dirs = ["/srv/cni/bin"]
)",
                         "t.toml");
  REQUIRE(c);
  CHECK(c->cni.conf_dir == "/srv/net.d");
  CHECK(c->cni.plugin_dirs == std::vector<std::filesystem::path>{"/srv/cni/bin"});
  CHECK(c->pids_limit == 1024);

  auto relative = config::parse("[cni]\nconf_dir = \"net.d\"", "e.toml");
  REQUIRE_FALSE(relative);
  CHECK_THAT(relative.error().message(), Catch::Contains("e.toml") && Catch::Contains("'cni.conf_dir'"));
  auto unknown = config::parse("[cni]\nbin_dir = \"/x\"", "f.toml");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message() == "f.toml: unknown key 'cni.bin_dir'");
  auto empty = config::parse("[cni]\nplugin_dirs = []", "g.toml");
  REQUIRE_FALSE(empty);
  CHECK_THAT(empty.error().message(), Catch::Contains("'cni.plugin_dirs'"));
  auto negative = config::parse("pids_limit = -5", "h.toml");
  REQUIRE_FALSE(negative);
  CHECK_THAT(negative.error().message(), Catch::Contains("'pids_limit'"));
}

TEST_CASE("cni.native: auto by default, off, and nothing else") {
  auto d = config::parse("", "t.toml");
  REQUIRE(d);
  CHECK(d->cni.native);
  auto off = config::parse("[cni]\nnative = \"off\"", "t.toml");
  REQUIRE(off);
  CHECK_FALSE(off->cni.native);
  auto on = config::parse("[cni]\nnative = \"auto\"", "t.toml");
  REQUIRE(on);
  CHECK(on->cni.native);
  auto bad = config::parse("[cni]\nnative = true", "n.toml");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() == "n.toml: key 'cni.native' must be \"auto\" or \"off\"");
}

TEST_CASE("[image] defaults: 16 GiB a layer, 512 MiB kept free, 60 s without progress") {
  auto c = config::parse("", "t.toml");
  REQUIRE(c);
  CHECK(c->image.max_layer_bytes == std::uint64_t{16} << 30);
  CHECK(c->image.min_free_bytes == std::uint64_t{512} << 20);
  CHECK(c->image.pull_progress_timeout_seconds == 60);
  CHECK(c->image.layer_store == "auto");
}

TEST_CASE("[image] keys override their defaults; the timeout takes seconds or a duration") {
  auto c = config::parse(R"(
[image]
max_layer_bytes = 1_048_576
min_free_bytes = 0
pull_progress_timeout = 5
layer_store = "dir"
)",
                         "t.toml");
  REQUIRE(c);
  CHECK(c->image.layer_store == "dir");
  CHECK(c->image.max_layer_bytes == 1'048'576);
  CHECK(c->image.min_free_bytes == 0);
  CHECK(c->image.pull_progress_timeout_seconds == 5);
  for (auto [text, seconds] : std::vector<std::pair<std::string, std::uint32_t>>{{"\"90s\"", 90},
                                                                                 {"\"5m\"", 300},
                                                                                 {"\"1m30s\"", 90},
                                                                                 {"\"1m0s\"", 60},
                                                                                 {"\"2h\"", 7200},
                                                                                 {"0", 0}}) {
    INFO(text);
    auto d = config::parse("[image]\npull_progress_timeout = " + text, "t.toml");
    REQUIRE(d);
    CHECK(d->image.pull_progress_timeout_seconds == seconds);
  }
}

TEST_CASE("[image] errors name the file and the key") {
  const std::string timeout_words =
      "must be a number of seconds or a duration such as \"90s\", \"5m\" or \"1m30s\" (0: no "
      "timeout)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"image = 1", "i.toml: key 'image' must be a table"},
      {"[image]\nmax_layer_size = 1", "i.toml: unknown key 'image.max_layer_size'"},
      {"[image]\nmax_layer_bytes = -1",
       "i.toml: key 'image.max_layer_bytes' must be a number of bytes (an integer, 0 or more)"},
      {"[image]\nmax_layer_bytes = \"16GiB\"",
       "i.toml: key 'image.max_layer_bytes' must be a number of bytes (an integer, 0 or more)"},
      {"[image]\nmin_free_bytes = 1.5",
       "i.toml: key 'image.min_free_bytes' must be a number of bytes (an integer, 0 or more)"},
      {"[image]\npull_progress_timeout = -1",
       "i.toml: key 'image.pull_progress_timeout' " + timeout_words},
      {"[image]\npull_progress_timeout = \"500ms\"",
       "i.toml: key 'image.pull_progress_timeout' " + timeout_words},
      {"[image]\npull_progress_timeout = \"1d\"",
       "i.toml: key 'image.pull_progress_timeout' " + timeout_words},
      {"[image]\npull_progress_timeout = \"90\"",
       "i.toml: key 'image.pull_progress_timeout' " + timeout_words},
      {"[image]\npull_progress_timeout = true",
       "i.toml: key 'image.pull_progress_timeout' " + timeout_words},
      {"[image]\nlayer_store = \"zfs\"",
       "i.toml: key 'image.layer_store' must be \"auto\", \"dir\" or \"erofs\""},
      {"[image]\nlayer_store = 1",
       "i.toml: key 'image.layer_store' must be \"auto\", \"dir\" or \"erofs\""},
  };
  for (const auto& [text, message] : cases) {
    INFO(text);
    auto r = config::parse(text, "i.toml");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK(r.error().message() == message);
  }
}

TEST_CASE("[runtimes] handlers: none but the default unless configured") {
  auto d = config::parse("", "t.toml");
  REQUIRE(d);
  CHECK(d->runtimes.empty());
  REQUIRE(d->runtime_handler("") != nullptr);
  CHECK(d->runtime_handler("")->seccomp_profile.empty());
  CHECK(d->runtime_handler("ringcri") == d->runtime_handler(""));
  CHECK(d->runtime_handler("runc") == nullptr);
  CHECK(d->runtime_handler("kata") == nullptr);
}

TEST_CASE("[runtimes] a handler's table sets its seccomp default; ringcri's sets the default's") {
  auto c = config::parse(R"(
[runtimes.strict]
seccomp_profile = "runtime/default"
[runtimes."with.dot"]
[runtimes.ringcri]
seccomp_profile = "unconfined"
)",
                         "t.toml");
  REQUIRE(c);
  CHECK(c->runtimes.size() == 3);
  REQUIRE(c->runtime_handler("strict") != nullptr);
  CHECK(c->runtime_handler("strict")->seccomp_profile == "runtime/default");
  REQUIRE(c->runtime_handler("with.dot") != nullptr);
  CHECK(c->runtime_handler("with.dot")->seccomp_profile.empty());
  REQUIRE(c->runtime_handler("") != nullptr);
  CHECK(c->runtime_handler("")->seccomp_profile == "unconfined");
  CHECK(c->runtime_handler("ringcri") == c->runtime_handler(""));
  CHECK(c->runtime_handler("Strict") == nullptr);
}

TEST_CASE("[runtimes] errors name the file and the key path") {
  auto bad_profile =
      config::parse("[runtimes.a]\nseccomp_profile = \"localhost/x.json\"", "a.toml");
  REQUIRE_FALSE(bad_profile);
  CHECK_THAT(bad_profile.error().message(),
             Catch::Contains("a.toml") && Catch::Contains("'runtimes.a.seccomp_profile'"));
  auto not_string = config::parse("[runtimes.a]\nseccomp_profile = 1", "b.toml");
  REQUIRE_FALSE(not_string);
  CHECK_THAT(not_string.error().message(), Catch::Contains("'runtimes.a.seccomp_profile'"));
  auto unknown = config::parse("[runtimes.\"x y\"]\nbinary = \"/usr/bin/runc\"", "c.toml");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message() == "c.toml: unknown key 'runtimes.\"x y\".binary'");
  auto not_table = config::parse("runtimes = 3", "d.toml");
  REQUIRE_FALSE(not_table);
  CHECK_THAT(not_table.error().message(), Catch::Contains("'runtimes'"));
  auto handler_not_table = config::parse("[runtimes]\na = 3", "e.toml");
  REQUIRE_FALSE(handler_not_table);
  CHECK_THAT(handler_not_table.error().message(), Catch::Contains("'runtimes.a' must be a table"));
  auto unnamed = config::parse("[runtimes.\"\"]", "f.toml");
  REQUIRE_FALSE(unnamed);
  CHECK_THAT(unnamed.error().message(), Catch::Contains("needs a name"));
}

TEST_CASE("cgroup_favordynmods: on by default, false turns it off, and it is a bool") {
  auto d = config::parse("", "t.toml");
  REQUIRE(d);
  CHECK(d->cgroup_favordynmods);
  auto off = config::parse("cgroup_favordynmods = false", "t.toml");
  REQUIRE(off);
  CHECK_FALSE(off->cgroup_favordynmods);
  auto bad = config::parse("cgroup_favordynmods = \"yes\"", "b.toml");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Catch::Contains("b.toml") && Catch::Contains("'cgroup_favordynmods'"));
}

TEST_CASE("log_target and keeper_log_max_bytes: defaults, overrides and errors") {
  auto d = config::parse("", "t.toml");
  REQUIRE(d);
  CHECK(d->log_target == "auto");
  CHECK(d->keeper_log_max_bytes == 10485760);
  auto set = config::parse("log_target = \"journald\"\nkeeper_log_max_bytes = 4096", "t.toml");
  REQUIRE(set);
  CHECK(set->log_target == "journald");
  CHECK(set->keeper_log_max_bytes == 4096);
  for (const char* target : {"auto", "stderr", "journald"})
    CHECK(config::parse(std::string("log_target = \"") + target + "\"", "t.toml"));

  for (const char* bad : {"log_target = \"syslog\"", "log_target = 1"}) {
    auto c = config::parse(bad, "b.toml");
    INFO(bad);
    REQUIRE_FALSE(c);
    CHECK_THAT(c.error().message(), Catch::Contains("b.toml") && Catch::Contains("log_target"));
  }
  for (const char* bad : {"keeper_log_max_bytes = 4095", "keeper_log_max_bytes = 0", "keeper_log_max_bytes = -1",
                          "keeper_log_max_bytes = 1e9", "keeper_log_max_bytes = \"10M\""}) {
    auto c = config::parse(bad, "b.toml");
    INFO(bad);
    REQUIRE_FALSE(c);
    CHECK_THAT(c.error().message(), Catch::Contains("b.toml") && Catch::Contains("'keeper_log_max_bytes'"));
  }

  config::config direct;
  direct.log_target = "file";
  CHECK_FALSE(config::validate(direct));
  direct.log_target = "stderr";
  direct.keeper_log_max_bytes = 100;
  CHECK_FALSE(config::validate(direct));
}

// etc/ringcri.toml, installed as /etc/ringcri/ringcri.toml by the Debian
// package, documents every key as a commented-out `# key = default` line.
// With those lines and the table headers uncommented the parser must take
// it (a misspelt key or a wrong type fails here), and every value it
// shows must be the embedded default.
TEST_CASE("etc/ringcri.toml: every documented key parses, with its default") {
  std::ifstream in(RINGCRI_EXAMPLE_CONFIG);
  REQUIRE(in);
  const std::regex setting(R"(^# ?([a-z_]+ = |\[))");
  std::string text;
  int uncommented = 0;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, setting)) {
      line.erase(0, line.starts_with("# ") ? 2 : 1);
      ++uncommented;
    }
    text += line + '\n';
  }
  CHECK(uncommented >= 30);
  auto c = config::parse(text, RINGCRI_EXAMPLE_CONFIG);
  INFO((c ? std::string() : c.error().message()));
  REQUIRE(c);

  const config::config defaults;
  CHECK(c->root_dir == defaults.root_dir);
  CHECK(c->state_dir == defaults.state_dir);
  CHECK(c->socket_path() == defaults.socket_path());
  CHECK(c->cores == defaults.cores);
  CHECK(c->log_level == defaults.log_level);
  CHECK(c->log_target == defaults.log_target);
  CHECK(c->keeper_log_max_bytes == defaults.keeper_log_max_bytes);
  CHECK(c->cgroup_driver == defaults.cgroup_driver);
  CHECK(c->cgroup_favordynmods == defaults.cgroup_favordynmods);
  CHECK(c->stream_server_address == defaults.stream_server_address);
  CHECK(c->stream_server_port == defaults.stream_server_port);
  CHECK(c->pids_limit == defaults.pids_limit);
  CHECK(c->metrics_address == defaults.metrics_address);
  CHECK(c->registry.config_path == defaults.registry.config_path);
  CHECK(c->registry.max_concurrent_downloads == defaults.registry.max_concurrent_downloads);
  CHECK(c->image.max_layer_bytes == defaults.image.max_layer_bytes);
  CHECK(c->image.min_free_bytes == defaults.image.min_free_bytes);
  CHECK(c->image.pull_progress_timeout_seconds == defaults.image.pull_progress_timeout_seconds);
  CHECK(c->image.layer_store == defaults.image.layer_store);
  CHECK(c->cni.conf_dir == defaults.cni.conf_dir);
  CHECK(c->cni.plugin_dirs == defaults.cni.plugin_dirs);
  CHECK(c->cni.native == defaults.cni.native);
  // The two example tables.
  REQUIRE(c->registry.auths.count("registry.example.com") == 1);
  CHECK(c->registry.auths.at("registry.example.com").auth == "dXNlcjpzZWNyZXQ=");
  REQUIRE(c->runtime_handler("hardened") != nullptr);
  CHECK(c->runtime_handler("hardened")->seccomp_profile == "runtime/default");
}
