// What one plugin is given: its own object with the list's name and
// version, the previous result, portMappings only when it declares the
// capability, and CNI_ARGS.

#include "net/cni/plugin_config.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace cni = ringcri::net::cni;
using nlohmann::json;

namespace {

cni::network_list sample_list() {
  auto list = cni::parse_network_list(R"({
    "cniVersion": "1.0.0", "name": "podnet",
    "plugins": [
      {"type": "bridge", "bridge": "cni0", "cniVersion": "0.3.1", "ipam": {"type": "host-local"}},
      {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true},
      {"type": "tuning", "capabilities": {"portMappings": false}}
    ]})",
                                      "10-podnet.conflist");
  REQUIRE(list.has_value());
  return std::move(*list);
}

json stdin_of(const cni::network_list& list, size_t index, std::string_view prev,
              const std::vector<cni::port_mapping>& ports) {
  auto text = cni::plugin_stdin(list, index, prev, ports);
  REQUIRE(text.has_value());
  json doc = json::parse(*text, nullptr, false);
  REQUIRE(doc.is_object());
  return doc;
}

const std::vector<cni::port_mapping> ports = {
    {8080, 80, "tcp", "127.0.0.1"},
    {5353, 53, "udp", ""},
};

}  // namespace

TEST_CASE("the first plugin gets its own config, the list's name and version", "[stdin]") {
  auto list = sample_list();
  json conf = stdin_of(list, 0, "", ports);
  CHECK(conf["type"] == "bridge");
  CHECK(conf["bridge"] == "cni0");
  CHECK(conf["name"] == "podnet");
  CHECK(conf["cniVersion"] == "1.0.0");
  CHECK(conf["ipam"]["type"] == "host-local");
  CHECK_FALSE(conf.contains("prevResult"));
  CHECK_FALSE(conf.contains("runtimeConfig"));
}

TEST_CASE("a later plugin gets the previous result", "[stdin]") {
  auto list = sample_list();
  const char* prev = R"({"cniVersion":"1.0.0","ips":[{"address":"10.88.0.5/16"}]})";
  json conf = stdin_of(list, 1, prev, {});
  CHECK(conf["prevResult"]["ips"][0]["address"] == "10.88.0.5/16");
  CHECK_FALSE(conf.contains("runtimeConfig"));
}

TEST_CASE("portMappings go only to a plugin that declares the capability", "[stdin]") {
  auto list = sample_list();
  json portmap = stdin_of(list, 1, "{}", ports);
  json mappings = portmap["runtimeConfig"]["portMappings"];
  REQUIRE(mappings.size() == 2);
  CHECK(mappings[0] == json{{"hostPort", 8080},
                            {"containerPort", 80},
                            {"protocol", "tcp"},
                            {"hostIP", "127.0.0.1"}});
  CHECK(mappings[1] == json{{"hostPort", 5353}, {"containerPort", 53}, {"protocol", "udp"}});

  CHECK_FALSE(stdin_of(list, 0, "", ports).contains("runtimeConfig"));
  CHECK_FALSE(stdin_of(list, 2, "{}", ports).contains("runtimeConfig"));
}

TEST_CASE("a previous result that is not JSON is an error", "[stdin]") {
  auto list = sample_list();
  auto text = cni::plugin_stdin(list, 1, "not json", {});
  REQUIRE_FALSE(text.has_value());
  auto out_of_range = cni::plugin_stdin(list, 3, "", {});
  REQUIRE_FALSE(out_of_range.has_value());
}

TEST_CASE("CNI_ARGS joins K=V pairs with ';'", "[args]") {
  auto args = cni::cni_args({{"IgnoreUnknown", "1"},
                             {"K8S_POD_NAMESPACE", "default"},
                             {"K8S_POD_NAME", "web-0"},
                             {"K8S_POD_INFRA_CONTAINER_ID", "abc123"},
                             {"K8S_POD_UID", "0f1e"}});
  REQUIRE(args.has_value());
  CHECK(*args ==
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;"
        "K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=0f1e");
  auto none = cni::cni_args({});
  REQUIRE(none.has_value());
  CHECK(none->empty());
}

TEST_CASE("CNI_ARGS refuses what plugins would split wrongly", "[args]") {
  CHECK_FALSE(cni::cni_args({{"A", "x;B=y"}}).has_value());
  CHECK_FALSE(cni::cni_args({{"A=B", "x"}}).has_value());
  CHECK_FALSE(cni::cni_args({{"", "x"}}).has_value());
  CHECK(cni::cni_args({{"A", ""}}).has_value());
}
