// Which bridge configs the daemon does in-process, read with the plugin's
// keys and defaults, and why the others run the plugin. No root needed.

#include "net/native/bridge_config.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "net/native/chain.hpp"

namespace native = ringcri::net::native;
using nlohmann::json;

namespace {

json bridge(json extra = json::object()) {
  json conf = {{"cniVersion", "1.0.0"},
               {"name", "pods"},
               {"type", "bridge"},
               {"ipam", {{"type", "host-local"}, {"ranges", {{{{"subnet", "10.40.0.0/24"}}}}}}}};
  conf.update(extra);
  return conf;
}

}  // namespace

TEST_CASE("bridge config: the plugin's defaults and keys") {
  auto c = native::choose_bridge(bridge());
  REQUIRE(c.config);
  CHECK(c.config->bridge == "cni0");
  CHECK_FALSE(c.config->is_gateway);
  CHECK(c.config->mtu == 0);
  CHECK(c.config->ipam.network == "pods");
  CHECK(c.config->dns == json::object());

  auto d = native::choose_bridge(
      bridge({{"bridge", "br7"},
              {"isDefaultGateway", true},
              {"ipMasq", true},
              {"hairpinMode", true},
              {"mtu", 1450},
              {"dns", {{"nameservers", {"10.40.0.10"}}, {"search", json::array()}}}}));
  REQUIRE(d.config);
  CHECK(d.config->bridge == "br7");
  CHECK(d.config->is_gateway);  // implied by isDefaultGateway
  CHECK(d.config->hairpin_mode);
  CHECK(d.config->ip_masq);  // done with the daemon's nftables table
  CHECK(d.config->mtu == 1450);
  CHECK(d.config->dns == json{{"nameservers", {"10.40.0.10"}}});  // empty lists left out
}

TEST_CASE("bridge config: what the native path does not cover runs the plugin, saying why") {
  auto reason = [](json extra) {
    auto c = native::choose_bridge(bridge(std::move(extra)));
    CHECK_FALSE(c.config);
    return c.exec_reason;
  };
  CHECK_THAT(reason({{"vlan", 5}}), Catch::Contains("VLAN"));
  CHECK_THAT(reason({{"macspoofchk", true}}), Catch::Contains("spoof"));
  CHECK_THAT(reason({{"runtimeConfig", {{"mac", "02:00:00:00:00:01"}}}}), Catch::Contains("MAC"));
  CHECK_THAT(reason({{"hairpinMode", true}, {"promiscMode", true}}),
             Catch::Contains("hairpinMode"));
  CHECK_THAT(reason({{"ipam", {{"type", "dhcp"}}}}), Catch::Contains("IPAM"));
  // A range host-local would refuse: the plugin gives its own words.
  CHECK_THAT(reason({{"ipam", {{"type", "host-local"}, {"subnet", "10.40.300.0/24"}}}}),
             Catch::Contains("refuse"));
  CHECK_THAT(reason({{"mtu", "big"}}), Catch::Contains("mtu"));
}

TEST_CASE("bridge config: IPv6 ranges with ipMasq are native") {
  auto c = native::choose_bridge(bridge(
      {{"ipMasq", true},
       {"ipam", {{"type", "host-local"}, {"ranges", {{{{"subnet", "fd00:40::/64"}}}}}}}}));
  REQUIRE(c.config);
  CHECK(c.config->ip_masq);
  CHECK_FALSE(c.config->ipam.ranges.at(0).front().start.is_v4());
}

TEST_CASE("how the plugins of a list ran, for the verbose status") {
  std::vector<native::plugin_run> runs{
      {"bridge", true, ""}, {"portmap", false, ""}, {"loopback", false, "native path off"}};
  CHECK(native::describe(runs) == "bridge=native portmap=exec loopback=exec (native path off)");
}
