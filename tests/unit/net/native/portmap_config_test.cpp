// Which portmap configs the daemon does in-process, read with the
// plugin's keys and defaults, and why the others run the plugin. No root
// needed.

#include "net/native/portmap.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace native = ringcri::net::native;
using nlohmann::json;

namespace {

json portmap(json extra = json::object()) {
  json conf = {{"cniVersion", "1.0.0"}, {"name", "pods"}, {"type", "portmap"}};
  conf.update(extra);
  return conf;
}

}  // namespace

TEST_CASE("portmap config: snat by default, the mappings from runtimeConfig") {
  auto c = native::choose_portmap(portmap());
  REQUIRE(c.config);
  CHECK(c.config->snat);
  CHECK(c.config->mappings.empty());

  auto d = native::choose_portmap(portmap(
      {{"snat", false},
       {"runtimeConfig",
        {{"portMappings",
          {{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "TCP"}},
           {{"hostPort", 5353}, {"containerPort", 53}, {"protocol", "udp"}, {"hostIP", "127.0.0.1"}}}}}}}));
  REQUIRE(d.config);
  CHECK_FALSE(d.config->snat);
  REQUIRE(d.config->mappings.size() == 2);
  CHECK(d.config->mappings[0].host_port == 8080);
  CHECK(d.config->mappings[0].container_port == 80);
  CHECK(d.config->mappings[0].protocol == "tcp");  // lower-cased, as the plugin does
  CHECK(d.config->mappings[1].protocol == "udp");
  CHECK(d.config->mappings[1].host_ip == "127.0.0.1");
}

TEST_CASE("portmap config: what the nftables table does not cover runs the plugin, saying why") {
  auto reason = [](json extra) {
    auto c = native::choose_portmap(portmap(std::move(extra)));
    CHECK_FALSE(c.config);
    return c.exec_reason;
  };
  CHECK_THAT(reason({{"conditionsV4", {"-s", "10.0.0.0/8"}}}), Catch::Contains("conditionsV4"));
  CHECK_THAT(reason({{"externalSetMarkChain", "KUBE-MARK-MASQ"}}),
             Catch::Contains("externalSetMarkChain"));
  CHECK_THAT(reason({{"snat", "yes"}}), Catch::Contains("snat"));
  CHECK_THAT(reason({{"runtimeConfig", {{"portMappings", {{{"hostPort", 0}, {"containerPort", 80}}}}}}}),
             Catch::Contains("refuses"));
  CHECK_THAT(reason({{"runtimeConfig",
                      {{"portMappings", {{{"hostPort", 80}, {"containerPort", 80}, {"protocol", "icmp"}}}}}}}),
             Catch::Contains("refuses"));
}
