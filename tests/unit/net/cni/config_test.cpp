// Loading the CNI network config: the first file by name is the pod
// network, a single plugin .conf is wrapped into a list, bad files are
// named in the error, and no dir or no file is "no network", not an error.

#include "net/cni/config.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

namespace cni = ringcri::net::cni;
using ringcri::testing::temp_dir;
using ringcri::error_kind;

namespace {

const char* bridge_list = R"({
  "cniVersion": "1.0.0", "name": "podnet",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]})";

// The error of loading `text` as the only file `name` of a conf dir.
ringcri::error load_error(const std::string& name, const std::string& text) {
  temp_dir dir;
  dir.write(name, text);
  auto loaded = cni::load_default_network(dir.path());
  REQUIRE_FALSE(loaded.has_value());
  return loaded.error();
}

}  // namespace

TEST_CASE("a conflist is loaded with its plugins in order", "[config]") {
  temp_dir dir;
  auto file = dir.write("10-podnet.conflist", bridge_list);
  auto loaded = cni::load_default_network(dir.path());
  REQUIRE(loaded.has_value());
  REQUIRE(loaded->has_value());
  const cni::network_list& list = **loaded;
  CHECK(list.name == "podnet");
  CHECK(list.cni_version == "1.0.0");
  CHECK_FALSE(list.disable_check);
  REQUIRE(list.plugins.size() == 2);
  CHECK(list.plugins[0]["type"] == "bridge");
  CHECK(list.plugins[1]["type"] == "portmap");
  CHECK(list.source == file);
  CHECK(list.raw_json == bridge_list);
}

TEST_CASE("the first file by name is the pod network", "[config]") {
  temp_dir dir;
  dir.write("20-second.conflist",
            R"({"cniVersion":"1.0.0","name":"second","plugins":[{"type":"bridge"}]})");
  dir.write("10-first.conflist",
            R"({"cniVersion":"0.4.0","name":"first","plugins":[{"type":"ptp"}]})");
  dir.write("05-ignored.txt", "not a config");
  dir.write("99-last.conf", R"({"cniVersion":"1.0.0","name":"last","type":"bridge"})");
  auto loaded = cni::load_default_network(dir.path());
  REQUIRE(loaded.has_value());
  REQUIRE(loaded->has_value());
  CHECK((*loaded)->name == "first");
  CHECK((*loaded)->cni_version == "0.4.0");
}

TEST_CASE("a broken first file is an error even when a later one is good", "[config]") {
  temp_dir dir;
  dir.write("10-broken.conflist", "{");
  dir.write("20-good.conflist", bridge_list);
  auto loaded = cni::load_default_network(dir.path());
  REQUIRE_FALSE(loaded.has_value());
  CHECK_THAT(loaded.error().message(), Catch::Contains("10-broken.conflist"));
}

TEST_CASE("a single plugin .conf or .json is wrapped into a one-plugin list", "[config]") {
  for (const char* name : {"10-one.conf", "10-one.json"}) {
    temp_dir dir;
    dir.write(name, R"({"cniVersion":"0.3.1","name":"one","type":"bridge","bridge":"cni0"})");
    auto loaded = cni::load_default_network(dir.path());
    REQUIRE(loaded.has_value());
    REQUIRE(loaded->has_value());
    const cni::network_list& list = **loaded;
    CHECK(list.name == "one");
    CHECK(list.cni_version == "0.3.1");
    REQUIRE(list.plugins.size() == 1);
    CHECK(list.plugins[0]["type"] == "bridge");
    CHECK(list.plugins[0]["bridge"] == "cni0");
  }
}

TEST_CASE("disableCheck is read as a bool or a string", "[config]") {
  auto a = cni::parse_network_list(
      R"({"cniVersion":"1.0.0","name":"n","disableCheck":true,"plugins":[{"type":"x"}]})",
      "a.conflist");
  REQUIRE(a.has_value());
  CHECK(a->disable_check);
  auto b = cni::parse_network_list(
      R"({"cniVersion":"1.0.0","name":"n","disableCheck":"true","plugins":[{"type":"x"}]})",
      "b.conflist");
  REQUIRE(b.has_value());
  CHECK(b->disable_check);
  auto c = cni::parse_network_list(
      R"({"cniVersion":"1.0.0","name":"n","disableCheck":3,"plugins":[{"type":"x"}]})",
      "c.conflist");
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().kind() == error_kind::invalid_argument);
}

TEST_CASE("every supported version loads", "[config]") {
  for (const char* v : {"1.0.0", "0.4.0", "0.3.1", "0.3.0"}) {
    auto list = cni::parse_network_list(
        std::string(R"({"cniVersion":")") + v + R"(","name":"n","plugins":[{"type":"x"}]})",
        "v.conflist");
    INFO(v);
    CHECK(list.has_value());
  }
}

TEST_CASE("bad files are INVALID_ARGUMENT naming the file and the problem", "[config]") {
  struct bad_case {
    const char* name;
    const char* text;
    const char* problem;
  };
  const bad_case cases[] = {
      {"10-json.conflist", "{\"cniVersion\": ", "not valid JSON"},
      {"10-array.conflist", "[1, 2]", "not a JSON object"},
      {"10-noname.conflist", R"({"cniVersion":"1.0.0","plugins":[{"type":"bridge"}]})",
       "no \"name\""},
      {"10-noplugins.conflist", R"({"cniVersion":"1.0.0","name":"n"})", "no plugins"},
      {"10-emptyplugins.conflist", R"({"cniVersion":"1.0.0","name":"n","plugins":[]})",
       "no plugins"},
      {"10-version.conflist", R"({"cniVersion":"0.2.0","name":"n","plugins":[{"type":"x"}]})",
       "unsupported cniVersion \"0.2.0\""},
      {"10-noversion.conflist", R"({"name":"n","plugins":[{"type":"x"}]})", "no \"cniVersion\""},
      {"10-notype.conflist",
       R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"},{"capabilities":{}}]})",
       "plugin 1 has no \"type\""},
      {"10-notype.conf", R"({"cniVersion":"1.0.0","name":"n","bridge":"cni0"})", "no \"type\""},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto err = load_error(c.name, c.text);
    CHECK(err.kind() == error_kind::invalid_argument);
    CHECK_THAT(err.message(), Catch::Contains(c.name));
    CHECK_THAT(err.message(), Catch::Contains(c.problem));
  }
}

TEST_CASE("no dir, an empty dir, or a dir without config files: no network", "[config]") {
  temp_dir dir;
  auto missing = cni::load_default_network(dir.path() / "nope");
  REQUIRE(missing.has_value());
  CHECK_FALSE(missing->has_value());

  auto empty = cni::load_default_network(dir.path());
  REQUIRE(empty.has_value());
  CHECK_FALSE(empty->has_value());

  dir.write("README", "x");
  std::filesystem::create_directory(dir.path() / "..data.conflist");
  auto others = cni::load_default_network(dir.path());
  REQUIRE(others.has_value());
  CHECK_FALSE(others->has_value());
}

TEST_CASE("a symlinked config file is followed", "[config]") {
  temp_dir dir;
  auto real = dir.write("real.txt", bridge_list);
  std::filesystem::create_symlink(real, dir.path() / "10-link.conflist");
  auto loaded = cni::load_default_network(dir.path());
  REQUIRE(loaded.has_value());
  REQUIRE(loaded->has_value());
  CHECK((*loaded)->name == "podnet");
}
