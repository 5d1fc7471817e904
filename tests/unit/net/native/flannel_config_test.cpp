// The flannel plugin's config, subnet.env and the delegate config it
// renders and saves, against what flannel-io/cni-plugin's code gives for
// the same input (the expected bytes are its Go encoder's: keys sorted,
// compact, HTML characters escaped).

#include "net/native/flannel_config.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace native = ringcri::net::native;
using nlohmann::json;

namespace {

const char* k3s_env =
    "FLANNEL_NETWORK=10.42.0.0/16\n"
    "FLANNEL_SUBNET=10.42.1.1/24\n"
    "FLANNEL_MTU=1450\n"
    "FLANNEL_IPMASQ=true\n";

native::flannel_config config_of(json plugin) {
  auto c = native::choose_flannel(plugin);
  REQUIRE(c.config);
  return *c.config;
}

}  // namespace

TEST_CASE("subnet.env: networks, the node's subnet as a network, MTU and ipmasq") {
  auto env = native::parse_subnet_env(k3s_env, "/run/flannel/subnet.env");
  REQUIRE(env);
  REQUIRE(env->networks.size() == 1);
  CHECK(env->networks[0].to_string() == "10.42.0.0/16");
  REQUIRE(env->subnet);
  CHECK(env->subnet->to_string() == "10.42.1.0/24");
  CHECK(*env->mtu == 1450);
  CHECK(*env->ipmasq);
  CHECK_FALSE(env->ipv6_subnet);

  auto dual = native::parse_subnet_env(
      "FLANNEL_NETWORK=10.42.0.0/16,10.42.0.0/16,10.43.0.0/16\nFLANNEL_SUBNET=10.42.1.1/24\n"
      "FLANNEL_IPV6_NETWORK=fd00:42::/56\nFLANNEL_IPV6_SUBNET=fd00:42:0:1::1/64\n"
      "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\nOTHER=1\n",
      "subnet.env");
  REQUIRE(dual);
  CHECK(dual->networks.size() == 2);  // the repeat dropped
  CHECK(dual->ipv6_subnet->to_string() == "fd00:42:0:1::/64");
  CHECK_FALSE(*dual->ipmasq);
}

TEST_CASE("subnet.env: what is missing or malformed is named, in the plugin's words") {
  auto missing = native::parse_subnet_env("FLANNEL_NETWORK=10.42.0.0/16\n", "/run/x.env");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind() == ringcri::error_kind::invalid_argument);
  CHECK_THAT(missing.error().message(),
             Catch::Contains("/run/x.env is missing FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, "
                             "FLANNEL_MTU, FLANNEL_IPMASQ"));
  CHECK_FALSE(native::parse_subnet_env("", "e"));
  auto bad_mtu = native::parse_subnet_env(
      "FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.1.1/24\nFLANNEL_MTU=big\n"
      "FLANNEL_IPMASQ=true\n",
      "e");
  REQUIRE_FALSE(bad_mtu);
  CHECK_THAT(bad_mtu.error().message(), Catch::Contains("\"big\""));
  auto bad_cidr = native::parse_subnet_env("FLANNEL_SUBNET=10.42.1.300/24\n", "e");
  REQUIRE_FALSE(bad_cidr);
  CHECK_THAT(bad_cidr.error().message(), Catch::Contains("10.42.1.300/24"));
  CHECK_FALSE(native::parse_subnet_env("FLANNEL_MTU\n", "e"));
}

TEST_CASE("the delegate rendered as flannel renders it, and saved as its encoder writes it") {
  // k3s's flannel conflist entry.
  auto config = config_of(json::parse(R"({"type": "flannel", "name": "cbr0",
      "cniVersion": "1.0.0", "delegate": {"hairpinMode": true, "forceAddress": true,
      "isDefaultGateway": true}})"));
  CHECK(config.subnet_file == "/run/flannel/subnet.env");
  CHECK(config.data_dir == "/var/lib/cni/flannel");
  auto env = native::parse_subnet_env(k3s_env, "subnet.env");
  REQUIRE(env);
  auto d = native::render_delegate(config, *env);
  REQUIRE(d);
  CHECK(native::saved_form(*d) ==
        R"({"cniVersion":"1.0.0","forceAddress":true,"hairpinMode":true,)"
        R"("ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.42.1.0/24"}]],)"
        R"("routes":[{"dst":"10.42.0.0/16"}],"type":"host-local"},)"
        R"("isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"})");

  // The config's own ipam keys and routes are kept, the delegate's own
  // ipMasq, mtu and isGateway win, runtimeConfig is passed on.
  auto custom = config_of(json::parse(R"({"type": "flannel", "name": "n", "cniVersion": "0.4.0",
      "subnetFile": "/tmp/s.env", "dataDir": "/tmp/d",
      "ipam": {"dataDir": "/tmp/ipam", "routes": [{"dst": "10.99.1.2/16", "gw": "10.42.1.9"}]},
      "runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 8080}]},
      "delegate": {"ipMasq": true, "mtu": 1400, "isGateway": false, "bridge": "a<b"}})"));
  CHECK(custom.subnet_file == "/tmp/s.env");
  CHECK(custom.data_dir == "/tmp/d");
  auto c = native::render_delegate(custom, *env);
  REQUIRE(c);
  CHECK((*c)["ipMasq"] == true);
  CHECK((*c)["mtu"] == 1400);
  CHECK((*c)["isGateway"] == false);
  CHECK((*c)["ipam"]["dataDir"] == "/tmp/ipam");
  CHECK((*c)["ipam"]["routes"] == json::parse(R"([{"dst": "10.99.1.2/16", "gw": "10.42.1.9"},
                                                   {"dst": "10.42.0.0/16"}])"));
  CHECK((*c)["runtimeConfig"]["portMappings"][0]["hostPort"] == 80);
  CHECK((*c)["cniVersion"] == "0.4.0");
  CHECK_THAT(native::saved_form(*c), Catch::Contains(R"("bridge":"a\u003cb")"));
}

TEST_CASE("a delegate flannel refuses is refused in its words; another type runs the plugin") {
  auto env = native::parse_subnet_env(k3s_env, "subnet.env");
  REQUIRE(env);
  auto refused = [&](const char* delegate) {
    auto d = native::render_delegate(
        config_of(json{{"type", "flannel"}, {"name", "n"}, {"delegate", json::parse(delegate)}}),
        *env);
    REQUIRE_FALSE(d);
    return d.error().message();
  };
  CHECK_THAT(refused(R"({"name": "x"})"), Catch::Contains("must not have 'name'"));
  CHECK_THAT(refused(R"({"ipam": {}})"), Catch::Contains("must not have 'ipam'"));
  CHECK_THAT(refused(R"({"type": 5})"), Catch::Contains("(string) 'type'"));
  auto ipvlan = native::choose_flannel(json::parse(R"({"delegate": {"type": "ipvlan"}})"));
  CHECK_FALSE(ipvlan.config);
  CHECK_THAT(ipvlan.exec_reason, Catch::Contains("ipvlan"));
}
