// What a SIGHUP reload takes and what it leaves for a restart.

#include "config/reload.hpp"

#include <catch2/catch.hpp>

using namespace ringcri::config;

TEST_CASE("a reload takes registry, CNI and log level, and names what needs a restart") {
  config running;
  auto loaded = parse(R"(
root = "/srv/ringcri"
log_level = "debug"
metrics_address = "127.0.0.1:9090"
[registry]
config_path = "/etc/other/certs.d"
[registry.auths."r.io"]
username = "u"
password = "p"
[cni]
conf_dir = "/etc/other/net.d"
[image]
layer_store = "dir"
)",
                      "test.toml");
  REQUIRE(loaded);

  CHECK(keys_needing_restart(running, *loaded) ==
        std::vector<std::string>{"root", "metrics_address", "image.layer_store"});
  CHECK(keys_reloaded(running, *loaded) ==
        std::vector<std::string>{"log_level", "registry.config_path", "registry.auths", "cni.conf_dir"});

  auto next = reloadable_part(running, *loaded);
  CHECK(next.log_level == "debug");
  CHECK(next.registry.config_path == "/etc/other/certs.d");
  CHECK(next.registry.auths.at("r.io").username == "u");
  CHECK(next.cni.conf_dir == "/etc/other/net.d");
  // What needs a restart stays as the daemon started.
  CHECK(next.root_dir == running.root_dir);
  CHECK(next.metrics_address.empty());
  CHECK(next.image.layer_store == "auto");
}

TEST_CASE("a reload of the same file changes nothing") {
  auto a = parse("log_level = \"warn\"\n[cni]\nnative = \"off\"\n", "a.toml");
  auto b = parse("log_level = \"warn\"\n[cni]\nnative = \"off\"\n", "b.toml");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(keys_needing_restart(*a, *b).empty());
  CHECK(keys_reloaded(*a, *b).empty());
}
