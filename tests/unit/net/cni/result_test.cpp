// Reading CNI results: 1.0.0 and 0.4.0 samples as the bridge plugin
// prints them, the pod's own interface picked by its sandbox, IPv4 first.

#include <catch2/catch.hpp>

#include "net/cni/result_json.hpp"

namespace cni = ringcri::net::cni;

namespace {

// What bridge + host-local printed for a pod (1.0.0).
const char* result_1_0_0 = R"({
  "cniVersion": "1.0.0",
  "interfaces": [
    {"name": "cni0", "mac": "d2:63:f5:59:d6:f1"},
    {"name": "vethb702721f", "mac": "0e:65:15:d0:5c:3f"},
    {"name": "eth0", "mac": "fa:05:7a:ae:34:c2", "sandbox": "/run/netns/pod-a"}
  ],
  "ips": [{"interface": 2, "address": "10.88.0.5/16", "gateway": "10.88.0.1"}],
  "routes": [{"dst": "0.0.0.0/0"}],
  "dns": {}
})";

// The same from a 0.4.0 list: "version" on each IP.
const char* result_0_4_0 = R"({
  "cniVersion": "0.4.0",
  "interfaces": [
    {"name": "cni0", "mac": "d2:63:f5:59:d6:f1"},
    {"name": "veth1", "mac": "0e:65:15:d0:5c:3f"},
    {"name": "eth0", "mac": "fa:05:7a:ae:34:c2", "sandbox": "/run/netns/pod-a"}
  ],
  "ips": [
    {"version": "6", "interface": 2, "address": "fd00:10:88::5/64", "gateway": "fd00:10:88::1"},
    {"version": "4", "interface": 2, "address": "10.88.0.5/16", "gateway": "10.88.0.1"}
  ],
  "dns": {}
})";

}  // namespace

TEST_CASE("a 1.0.0 result gives the pod's address without its prefix", "[result]") {
  auto ips = cni::parse_pod_ips(result_1_0_0, "/run/netns/pod-a");
  REQUIRE(ips.has_value());
  REQUIRE(ips->size() == 1);
  CHECK((*ips)[0].address == "10.88.0.5");
  CHECK((*ips)[0].prefix_length == 16);
  CHECK((*ips)[0].gateway == "10.88.0.1");
  CHECK((*ips)[0].family == 4);
}

TEST_CASE("a 0.4.0 dual-stack result gives IPv4 first", "[result]") {
  auto ips = cni::parse_pod_ips(result_0_4_0, "/run/netns/pod-a");
  REQUIRE(ips.has_value());
  REQUIRE(ips->size() == 2);
  CHECK((*ips)[0].address == "10.88.0.5");
  CHECK((*ips)[0].family == 4);
  CHECK((*ips)[1].address == "fd00:10:88::5");
  CHECK((*ips)[1].prefix_length == 64);
  CHECK((*ips)[1].gateway == "fd00:10:88::1");
  CHECK((*ips)[1].family == 6);
}

TEST_CASE("only the IPs of the interface in the pod's netns are taken", "[result]") {
  const char* two_sandboxes = R"({
    "cniVersion": "1.0.0",
    "interfaces": [
      {"name": "eth0", "sandbox": "/run/netns/other"},
      {"name": "br0"},
      {"name": "eth0", "sandbox": "/run/netns/pod-a"}
    ],
    "ips": [
      {"interface": 0, "address": "10.0.0.9/24"},
      {"interface": 1, "address": "10.0.0.1/24"},
      {"interface": 2, "address": "10.0.0.5/24", "gateway": "10.0.0.1"}
    ]})";
  auto ips = cni::parse_pod_ips(two_sandboxes, "/run/netns/pod-a");
  REQUIRE(ips.has_value());
  REQUIRE(ips->size() == 1);
  CHECK((*ips)[0].address == "10.0.0.5");

  // When no sandbox is the path given, every sandboxed interface counts.
  auto any = cni::parse_pod_ips(two_sandboxes, "/proc/123/ns/net");
  REQUIRE(any.has_value());
  REQUIRE(any->size() == 2);
  CHECK((*any)[0].address == "10.0.0.9");
  CHECK((*any)[1].address == "10.0.0.5");
}

TEST_CASE("a result without interfaces gives all its IPs", "[result]") {
  const char* bare = R"({"cniVersion":"1.0.0","ips":[
      {"address":"fd00::7/128"},{"address":"192.168.1.7/24","gateway":"192.168.1.1"}]})";
  auto ips = cni::parse_pod_ips(bare, "/run/netns/pod-a");
  REQUIRE(ips.has_value());
  REQUIRE(ips->size() == 2);
  CHECK((*ips)[0].address == "192.168.1.7");
  CHECK((*ips)[0].prefix_length == 24);
  CHECK((*ips)[1].address == "fd00::7");
  CHECK((*ips)[1].prefix_length == 128);
  CHECK((*ips)[1].gateway.empty());
}

TEST_CASE("a result with no IPs gives none", "[result]") {
  auto ips = cni::parse_pod_ips(R"({"cniVersion":"1.0.0","interfaces":[]})", "/x");
  REQUIRE(ips.has_value());
  CHECK(ips->empty());
}

TEST_CASE("malformed results are errors, not exceptions", "[result]") {
  for (const char* bad :
       {"", "nope", "[]", R"({"ips": 3})", R"({"ips": [{"gateway": "1.2.3.4"}]})",
        R"({"ips": [{"address": "10.0.0.300/24"}]})", R"({"ips": [{"address": "10.0.0.3/33"}]})",
        R"({"ips": [{"address": "10.0.0.3/x"}]})"}) {
    INFO(bad);
    auto ips = cni::parse_pod_ips(bad, "/x");
    REQUIRE_FALSE(ips.has_value());
    CHECK(ips.error().kind() == ringcri::error_kind::internal);
  }
}

TEST_CASE("the loopback plugin's addresses are no pod IPs", "[result]") {
  // What /usr/lib/cni/loopback prints, were it the last plugin of a list.
  const char* loopback = R"({
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "lo", "mac": "00:00:00:00:00:00", "sandbox": "/run/netns/pod-a"}],
    "ips": [{"interface": 0, "address": "127.0.0.1/8"}, {"interface": 0, "address": "::1/128"}],
    "dns": {}})";
  auto ips = cni::parse_pod_ips(loopback, "/run/netns/pod-a");
  REQUIRE(ips.has_value());
  CHECK(ips->empty());
}
