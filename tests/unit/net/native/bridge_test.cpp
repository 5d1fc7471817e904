// The native bridge + host-local path against Debian's real plugins, on
// the same conflist, each in network namespaces of the test's own: one
// plays the host (the plugin is run inside it through nsenter, the native
// path is handed it), one is the pod. Compared from outside with iproute2
// and by reading the store: the result JSON, the pod's links, addresses
// and routes, the bridge's address and MTU, the host port's master and
// hairpin, ip_forward, the reservation files. Then interop (ADD one way,
// DEL the other), exhaustion of a /30, and a failed ADD that leaves
// nothing. Closing the namespaces' fds frees every link made: nothing is
// left on the host. Needs root, iproute2, nsenter and the plugins (exit 77).

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "net/cni/network.hpp"
#include "net/native/chain.hpp"
#include "net/native/tuning.hpp"
#include "reactor/reactor.hpp"
#include "support/io_checks.hpp"
#include "support/node_network.hpp"
#include "support/scratch_netns.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

namespace cni = ringcri::net::cni;
namespace native = ringcri::net::native;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

void need_root_and_tools() {
  static bool checked = false;
  if (checked) return;
  ringcri::testing::need_root_ip_nsenter();
  for (const char* plugin : {"bridge", "host-local"})
    if (!fs::exists(fs::path("/usr/lib/cni") / plugin))
      ringcri::testing::skip_binary(std::string("no /usr/lib/cni/") + plugin +
                                    " (Debian package containernetworking-plugins)");
  checked = true;
}

// A namespace of the test's own, once the plugins are known to be there.
struct scratch_netns : ringcri::testing::scratch_netns {
  scratch_netns() { need_root_and_tools(); }
};

// What the bridge and host-local made, in words both paths must share:
// names that are random (the veth) and MACs replaced by their role.
struct observed {
  json result;
  json pod_links, pod_routes, bridge, host_port, reservations;
  std::string ip_forward, ipv6_forwarding;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

json reservations_of(const fs::path& store) {
  json out = json::object();
  if (!fs::exists(store)) return out;
  for (const auto& e : fs::directory_iterator(store))
    if (e.path().filename() != "lock") out[e.path().filename().string()] = read_file(e.path());
  return out;
}

json strip_link(json link) {
  for (const char* volatile_key :
       {"ifindex", "address", "link_index", "link_netnsid", "link", "operstate", "qdisc", "group",
        "txqlen", "broadcast", "addr_info", "ifname", "stats", "stats64"})
    link.erase(volatile_key);
  return link;
}

observed observe(const scratch_netns& host, const scratch_netns& pod,
                 const std::string& result_json, const fs::path& store) {
  observed o;
  o.result = json::parse(result_json);
  REQUIRE(o.result.at("interfaces").size() == 3);
  std::string veth = o.result["interfaces"][1]["name"];
  CHECK(std::regex_match(veth, std::regex("veth[0-9a-f]{8}")));
  // The MACs are the links' own.
  CHECK(o.result["interfaces"][0]["mac"] == host.ip("link show dev rcnbr0").at(0).at("address"));
  CHECK(o.result["interfaces"][1]["mac"] == host.ip("link show dev " + veth).at(0).at("address"));
  CHECK(o.result["interfaces"][2]["mac"] == pod.ip("link show dev eth0").at(0).at("address"));
  CHECK(o.result["interfaces"][2]["sandbox"] == pod.path());
  for (auto& i : o.result["interfaces"]) {
    i["mac"] = "mac";
    if (i.contains("sandbox")) i["sandbox"] = "sandbox";
  }
  o.result["interfaces"][1]["name"] = "veth";
  json eth0 = pod.ip("addr show dev eth0").at(0);
  o.pod_links = json::array({strip_link(eth0)});
  // Link-local addresses follow the random MAC.
  for (auto& a : eth0.at("addr_info"))
    if (a.value("local", "").rfind("fe80:", 0) != 0)
      o.pod_links.push_back(json{{"local", a.value("local", "")},
                                 {"prefixlen", a.value("prefixlen", 0)},
                                 {"family", a.value("family", "")}});
  o.pod_routes = pod.ip("route show");
  for (auto& r : pod.ip("-6 route show")) o.pod_routes.push_back(r);
  json br = host.ip("-d addr show dev rcnbr0").at(0);
  o.bridge = json{{"mtu", br.at("mtu")}, {"flags", br.at("flags")}, {"addr", json::array()}};
  for (auto& a : br.at("addr_info"))
    if (a.value("local", "").rfind("fe80:", 0) != 0)
      o.bridge["addr"].push_back(a.value("local", "") + "/" +
                                 std::to_string(a.value("prefixlen", 0)));
  json port = host.ip("-d link show dev " + veth).at(0);
  o.host_port = json{{"master", port.at("master")},
                     {"mtu", port.at("mtu")},
                     {"hairpin", port.at("linkinfo").at("info_slave_data").at("hairpin")},
                     {"up", port.at("flags")}};
  o.reservations = reservations_of(store);
  o.ip_forward = host.run("cat /proc/sys/net/ipv4/ip_forward");
  o.ipv6_forwarding = host.run("cat /proc/sys/net/ipv6/conf/all/forwarding");
  return o;
}

// The network: bridge rcnbr0 with a gateway and a default route, hairpin,
// MTU 1400, a static route, host-local on `data_dir`. `ipv6_subnet` adds
// a second range set and a route of that family (dual stack).
cni::network_list network(const fs::path& data_dir, const std::string& subnet = "10.77.0.0/24",
                          const std::string& ipv6_subnet = "") {
  json ipam = {{"type", "host-local"},
               {"dataDir", data_dir.string()},
               {"routes", json::array({{{"dst", "10.99.0.0/16"}}})},
               {"ranges", json::array({json::array({{{"subnet", subnet}}})})}};
  if (!ipv6_subnet.empty()) {
    ipam["routes"].push_back({{"dst", "fd00:99::/48"}});
    ipam["ranges"].push_back(json::array({{{"subnet", ipv6_subnet}}}));
  }
  json bridge = {{"type", "bridge"},      {"bridge", "rcnbr0"}, {"isGateway", true},
                 {"isDefaultGateway", true}, {"hairpinMode", true}, {"mtu", 1400},
                 {"ipam", ipam}};
  json conf = {{"cniVersion", "1.0.0"}, {"name", "rcnative"}, {"plugins", {bridge}}};
  auto list = cni::parse_network_list(conf.dump(), "rcnative.conflist");
  REQUIRE(list);
  return *list;
}

// A plugin dir whose bridge, bandwidth and tuning run Debian's inside `host`.
fs::path plugin_dir_for(const ringcri::testing::temp_dir& dir, const scratch_netns& host) {
  for (const char* plugin : {"bridge", "bandwidth", "tuning"}) {
    fs::path wrapper = dir.path() / plugin;
    std::ofstream(wrapper) << "#!/bin/sh\nexec nsenter --net=" << host.path() << " /usr/lib/cni/"
                           << plugin << " \"$@\"\n";
    fs::permissions(wrapper, fs::perms::owner_all);
  }
  return dir.path();
}

cni::attachment pod_of(const scratch_netns& pod, const std::string& id) {
  cni::attachment a;
  a.container_id = id;
  a.netns_path = pod.path();
  return a;
}

ringcri::result<native::chain_add_result> native_add(const cni::network_list& list,
                                                     const cni::attachment& pod, int host_fd) {
  ringcri::reactor::reactor r;
  native::chain_options o;
  o.host_netns_fd = host_fd;
  o.plugin_dirs = {"/usr/lib/cni"};
  return r.block_on(native::add(list, pod, o));
}

ringcri::result<void> native_del(const cni::network_list& list, const cni::attachment& pod,
                                 const std::string& prev, int host_fd) {
  ringcri::reactor::reactor r;
  native::chain_options o;
  o.host_netns_fd = host_fd;
  o.plugin_dirs = {"/usr/lib/cni"};
  return r.block_on(native::del(list, pod, prev, o));
}

}  // namespace

namespace {

// ADDs the same network natively and with the plugins, each in its own
// host and pod, and compares what each made.
std::pair<observed, native::chain_add_result> add_both_ways(const std::string& subnet,
                                                            const std::string& ipv6_subnet) {
  ringcri::testing::temp_dir dir("ringcri-native");
  scratch_netns native_host, native_pod, plugin_host, plugin_pod;
  ringcri::testing::temp_dir plugins("ringcri-native-plugins");
  std::vector<std::string> dirs{plugin_dir_for(plugins, plugin_host).string(), "/usr/lib/cni"};

  auto native_list = network(dir.path() / "native", subnet, ipv6_subnet);
  auto plugin_list = network(dir.path() / "plugin", subnet, ipv6_subnet);
  auto n = native_add(native_list, pod_of(native_pod, "c1"), native_host.fd());
  INFO((n ? std::string() : n.error().message()));
  REQUIRE(n);
  REQUIRE(n->runs.size() == 1);
  CHECK(n->runs[0].native);
  auto p = cni::add(plugin_list, pod_of(plugin_pod, "c1"), dirs);
  INFO((p ? std::string() : p.error().message()));
  REQUIRE(p);

  observed on =
      observe(native_host, native_pod, n->result_json, dir.path() / "native" / "rcnative");
  observed op =
      observe(plugin_host, plugin_pod, p->result_json, dir.path() / "plugin" / "rcnative");
  CHECK(on.result == op.result);
  CHECK(on.pod_links == op.pod_links);
  CHECK(on.pod_routes == op.pod_routes);
  CHECK(on.bridge == op.bridge);
  CHECK(on.host_port == op.host_port);
  CHECK(on.reservations == op.reservations);
  CHECK(on.ip_forward == op.ip_forward);
  CHECK(on.ipv6_forwarding == op.ipv6_forwarding);
  CHECK(on.ip_forward == "1\n");
  return {on, *n};
}

}  // namespace

TEST_CASE("native bridge ADD makes what the bridge plugin makes, and gives its result") {
  auto [on, n] = add_both_ways("10.77.0.0/24", "");
  CHECK(on.ipv6_forwarding == "0\n");
  CHECK(on.reservations.contains("10.77.0.2"));
  CHECK(on.result.at("ips").at(0) ==
        json{{"interface", 2}, {"address", "10.77.0.2/24"}, {"gateway", "10.77.0.1"}});
  CHECK(n.ips.size() == 1);
}

TEST_CASE("native dual-stack ADD makes what the bridge plugin makes: both families, both defaults") {
  auto [on, n] = add_both_ways("10.79.0.0/24", "fd00:79::/64");
  CHECK(on.ipv6_forwarding == "1\n");
  CHECK(on.reservations.contains("10.79.0.2"));
  CHECK(on.reservations.contains("fd00:79::2"));
  CHECK(on.result.at("ips").at(1) ==
        json{{"interface", 2}, {"address", "fd00:79::2/64"}, {"gateway", "fd00:79::1"}});
  CHECK(on.bridge.at("addr") == json::array({"10.79.0.1/24", "fd00:79::1/64"}));
  bool v6_default = false;
  for (const auto& r : on.pod_routes)
    if (r.value("dst", "") == "default" && r.value("gateway", "") == "fd00:79::1") v6_default = true;
  CHECK(v6_default);
  CHECK(n.ips.size() == 2);
}

TEST_CASE("a pod ADDed natively is DELeted by the plugin, and the reverse") {
  ringcri::testing::temp_dir dir("ringcri-native");
  scratch_netns host, pod_a, pod_b;
  ringcri::testing::temp_dir plugins("ringcri-native-plugins");
  std::vector<std::string> dirs{plugin_dir_for(plugins, host).string(), "/usr/lib/cni"};
  auto list = network(dir.path());
  fs::path store = dir.path() / "rcnative";

  auto n = native_add(list, pod_of(pod_a, "a"), host.fd());
  REQUIRE(n);
  auto p = cni::add(list, pod_of(pod_b, "b"), dirs);
  REQUIRE(p);
  // host-local's round robin goes on from the native reservation.
  CHECK(reservations_of(store).contains("10.77.0.2"));
  CHECK(reservations_of(store).contains("10.77.0.3"));
  std::string veth_a = json::parse(n->result_json)["interfaces"][1]["name"];
  std::string veth_b = json::parse(p->result_json)["interfaces"][1]["name"];

  auto deleted_by_plugin = cni::del(list, pod_of(pod_a, "a"), n->result_json, dirs);
  INFO((deleted_by_plugin ? std::string() : deleted_by_plugin.error().message()));
  CHECK(deleted_by_plugin);
  CHECK(pod_a.ip("link show").size() == 1);  // lo
  CHECK(!reservations_of(store).contains("10.77.0.2"));

  auto deleted_natively = native_del(list, pod_of(pod_b, "b"), p->result_json, host.fd());
  INFO((deleted_natively ? std::string() : deleted_natively.error().message()));
  CHECK(deleted_natively);
  CHECK(pod_b.off_network());
  CHECK(!reservations_of(store).contains("10.77.0.3"));
  // DEL again, and with the namespace gone: both succeed.
  CHECK(native_del(list, pod_of(pod_b, "b"), p->result_json, host.fd()));
  // The native DEL's veth goes with the pod's namespace.
  pod_b.close();
  bool veths_gone = false;
  for (int i = 0; i < 100 && !veths_gone; ++i) {
    veths_gone = true;
    for (const auto& link : host.ip("link show"))
      if (link.at("ifname") == veth_a || link.at("ifname") == veth_b) veths_gone = false;
    if (!veths_gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(veths_gone);
  cni::attachment gone = pod_of(pod_b, "b");
  gone.netns_path = "/proc/self/fd/999999";
  CHECK(native_del(list, gone, p->result_json, host.fd()));
}

TEST_CASE(
    "an exhausted range fails the native ADD with RESOURCE_EXHAUSTED naming it, leaving nothing") {
  ringcri::testing::temp_dir dir("ringcri-native");
  scratch_netns host, pod_a, pod_b;
  // A /30: .1 is the gateway, .2 the only address to hand out (host-local
  // names the range from .1, the gateway skipped as it goes).
  auto list = network(dir.path(), "10.78.0.0/30");
  auto first = native_add(list, pod_of(pod_a, "a"), host.fd());
  REQUIRE(first);
  auto second = native_add(list, pod_of(pod_b, "b"), host.fd());
  REQUIRE(!second);
  CHECK(second.error().kind() == ringcri::error_kind::resource_exhausted);
  CHECK_THAT(second.error().message(), Catch::Contains("10.78.0.1-10.78.0.2"));
  // The half-made ADD undid itself: no second veth, pod b has only lo.
  CHECK(pod_b.ip("link show").size() == 1);
  int veths = 0;
  for (const auto& link : host.ip("link show"))
    if (link.at("ifname").get<std::string>().rfind("veth", 0) == 0) ++veths;
  CHECK(veths == 1);
  CHECK(reservations_of(dir.path() / "rcnative").size() == 2);  // 10.78.0.2, last_reserved_ip.0
}

namespace {

// flannel's entry as k3s writes it, on a node whose flanneld wrote
// `env` into the test's subnet.env; its delegate saved under dir/flannel.
struct flannel_node {
  ringcri::testing::temp_dir dir{"ringcri-flannel"};
  fs::path subnet_env = dir.path() / "subnet.env";
  fs::path data_dir = dir.path() / "flannel";

  explicit flannel_node(const std::string& env = "FLANNEL_NETWORK=10.76.0.0/16\n"
                                                 "FLANNEL_SUBNET=10.76.3.1/24\n"
                                                 "FLANNEL_MTU=1400\nFLANNEL_IPMASQ=true\n") {
    if (!env.empty()) std::ofstream(subnet_env) << env;
  }

  cni::network_list list(bool with_portmap = false) const {
    json flannel = {{"type", "flannel"},
                    {"subnetFile", subnet_env.string()},
                    {"dataDir", data_dir.string()},
                    {"ipam", {{"dataDir", (dir.path() / "ipam").string()}}},
                    {"delegate",
                     {{"bridge", "rcnbr0"}, {"hairpinMode", true}, {"isDefaultGateway", true}}}};
    json plugins = json::array({flannel});
    if (with_portmap)
      plugins.push_back({{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}});
    json conf = {{"cniVersion", "1.0.0"}, {"name", "rcflannel"}, {"plugins", plugins}};
    auto parsed = cni::parse_network_list(conf.dump(), "rcflannel.conflist");
    REQUIRE(parsed);
    return *parsed;
  }

  std::string saved(const std::string& id) const { return read_file(data_dir / id); }
  fs::path store() const { return dir.path() / "ipam" / "rcflannel"; }
};

}  // namespace

TEST_CASE("native flannel saves the delegate flannel saves and makes what its bridge makes") {
  flannel_node node;
  scratch_netns native_host, native_pod, plugin_host, plugin_pod;
  ringcri::testing::temp_dir plugins("ringcri-native-plugins");
  std::vector<std::string> dirs{plugin_dir_for(plugins, plugin_host).string(), "/usr/lib/cni"};

  auto n = native_add(node.list(), pod_of(native_pod, "f1"), native_host.fd());
  INFO((n ? std::string() : n.error().message()));
  REQUIRE(n);
  CHECK(native::describe(n->runs) == "flannel=native");
  const std::string saved = node.saved("f1");
  CHECK(saved ==
        R"({"bridge":"rcnbr0","cniVersion":"1.0.0","hairpinMode":true,"ipMasq":false,)"
        R"("ipam":{"dataDir":")" + (node.dir.path() / "ipam").string() +
            R"(","ranges":[[{"subnet":"10.76.3.0/24"}]],"routes":[{"dst":"10.76.0.0/16"}],)"
            R"("type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1400,)"
            R"("name":"rcflannel","type":"bridge"})");
  const auto owner_rw = fs::perms::owner_read | fs::perms::owner_write;
  CHECK((fs::status(node.data_dir / "f1").permissions() & fs::perms::all) == owner_rw);

  // What the flannel plugin does next: the bridge plugin with that config.
  // (Its reservations go to the same store: the second pod's address is
  // the next one, so only the first is compared by name.)
  fs::remove_all(node.store());
  auto p = cni::run_delegate(cni::command::add, "bridge", saved, pod_of(plugin_pod, "f1"), dirs,
                             std::chrono::seconds(30));
  INFO((p ? std::string() : p.error().message()));
  REQUIRE(p);
  observed on = observe(native_host, native_pod, n->result_json, node.store());
  observed op = observe(plugin_host, plugin_pod, *p, node.store());
  CHECK(on.result == op.result);
  CHECK(on.pod_links == op.pod_links);
  CHECK(on.pod_routes == op.pod_routes);
  CHECK(on.bridge == op.bridge);
  CHECK(on.host_port == op.host_port);
  CHECK(on.result.at("ips").at(0).at("address") == "10.76.3.2/24");
  CHECK(on.bridge.at("mtu") == 1400);
}

TEST_CASE("a pod ADDed by native flannel is DELeted by flannel's delegate, and the reverse") {
  flannel_node node;
  scratch_netns host, pod_a, pod_b;
  ringcri::testing::temp_dir plugins("ringcri-native-plugins");
  std::vector<std::string> dirs{plugin_dir_for(plugins, host).string(), "/usr/lib/cni"};
  auto list = node.list();

  // Native ADD; the flannel plugin's DEL: its bridge, given the saved file.
  auto n = native_add(list, pod_of(pod_a, "a"), host.fd());
  REQUIRE(n);
  auto gone = cni::run_delegate(cni::command::del, "bridge", node.saved("a"), pod_of(pod_a, "a"),
                                dirs, std::chrono::seconds(30));
  INFO((gone ? std::string() : gone.error().message()));
  CHECK(gone);
  CHECK(pod_a.ip("link show").size() == 1);
  CHECK(reservations_of(node.store()).size() == 1);  // last_reserved_ip.0

  // The flannel plugin's ADD (its saved file, its bridge); native DEL.
  fs::create_directories(node.data_dir);
  const std::string rendered = node.saved("a");
  std::ofstream(node.data_dir / "b") << rendered;
  auto p = cni::run_delegate(cni::command::add, "bridge", rendered, pod_of(pod_b, "b"), dirs,
                             std::chrono::seconds(30));
  REQUIRE(p);
  CHECK(reservations_of(node.store()).size() == 2);
  auto deleted = native_del(list, pod_of(pod_b, "b"), *p, host.fd());
  INFO((deleted ? std::string() : deleted.error().message()));
  CHECK(deleted);
  CHECK(pod_b.off_network());
  CHECK(reservations_of(node.store()).size() == 1);
  CHECK_FALSE(fs::exists(node.data_dir / "b"));
  // Again: no saved file, nothing to do.
  CHECK(native_del(list, pod_of(pod_b, "b"), *p, host.fd()));
}

TEST_CASE("native flannel on a node flanneld has not set up fails in its words, leaving nothing") {
  flannel_node node("");
  scratch_netns host, pod;
  auto n = native_add(node.list(), pod_of(pod, "f"), host.fd());
  REQUIRE_FALSE(n);
  CHECK(n.error().kind() == ringcri::error_kind::failed_precondition);
  CHECK_THAT(n.error().message(), Catch::Contains("failed to load flannel 'subnet.env' file") &&
                                      Catch::Contains(node.subnet_env.string()) &&
                                      Catch::Contains("Check the flannel pod log"));
  CHECK(pod.ip("link show").size() == 1);
  CHECK_FALSE(fs::exists(node.data_dir / "f"));
}

TEST_CASE("portmap after native flannel is native, dual stack too") {
  flannel_node node;
  scratch_netns host, pod;
  auto n = native_add(node.list(true), pod_of(pod, "p"), host.fd());
  INFO((n ? std::string() : n.error().message()));
  REQUIRE(n);
  CHECK(native::describe(n->runs) == "flannel=native portmap=native");
  CHECK(native_del(node.list(true), pod_of(pod, "p"), n->result_json, host.fd()));
  CHECK(pod.off_network());

  flannel_node dual("FLANNEL_NETWORK=10.76.0.0/16\nFLANNEL_SUBNET=10.76.3.1/24\n"
                    "FLANNEL_IPV6_NETWORK=fd00:76::/56\nFLANNEL_IPV6_SUBNET=fd00:76:0:3::1/64\n"
                    "FLANNEL_MTU=1400\nFLANNEL_IPMASQ=true\n");
  scratch_netns host2, pod2;
  auto d = native_add(dual.list(true), pod_of(pod2, "d"), host2.fd());
  INFO((d ? std::string() : d.error().message()));
  REQUIRE(d);
  CHECK(native::describe(d->runs) == "flannel=native portmap=native");
  CHECK(d->ips.size() == 2);
  CHECK(native_del(dual.list(true), pod_of(pod2, "d"), d->result_json, host2.fd()));
}

namespace {

// The bridge network with `meta` chained after it, its plugins run
// natively where they can, the others exec'd inside `host`.
struct chained {
  ringcri::testing::temp_dir dir{"ringcri-native"};
  ringcri::testing::temp_dir plugins{"ringcri-native-plugins"};
  const scratch_netns& host;
  std::vector<std::string> dirs;

  explicit chained(const scratch_netns& h)
      : host(h), dirs{plugin_dir_for(plugins, h).string(), "/usr/lib/cni"} {}

  cni::network_list with(json meta) const {
    json conf = json::parse(network(dir.path()).plugins.at(0).dump());
    json list = {
        {"cniVersion", "1.0.0"}, {"name", "rcnative"}, {"plugins", json::array({conf, meta})}};
    auto parsed = cni::parse_network_list(list.dump(), "rcnative.conflist");
    REQUIRE(parsed);
    return *parsed;
  }
  ringcri::result<native::chain_add_result> add(const cni::network_list& list,
                                                const scratch_netns& pod,
                                                const std::string& id) const {
    ringcri::reactor::reactor r;
    native::chain_options o;
    o.host_netns_fd = host.fd();
    o.plugin_dirs = dirs;
    return r.block_on(native::add(list, pod_of(pod, id), o));
  }
  ringcri::result<void> check(const cni::network_list& list, const scratch_netns& pod,
                              const std::string& id, const std::string& prev) const {
    ringcri::reactor::reactor r;
    native::chain_options o;
    o.host_netns_fd = host.fd();
    o.plugin_dirs = dirs;
    return r.block_on(native::check(list, pod_of(pod, id), prev, o));
  }
};

}  // namespace

TEST_CASE("bandwidth without a limit is native and passes the result on; with one the plugin runs") {
  scratch_netns host, pod_a, pod_b;
  chained net(host);
  auto with_bandwidth = [&](json bandwidth) { return net.with(std::move(bandwidth)); };
  auto run = [&](const cni::network_list& list, const scratch_netns& pod, const std::string& id) {
    return net.add(list, pod, id);
  };

  // k3s's entry: the capability, no rate.
  auto no_limit = with_bandwidth({{"type", "bandwidth"}, {"capabilities", {{"bandwidth", true}}}});
  auto a = run(no_limit, pod_a, "a");
  INFO((a ? std::string() : a.error().message()));
  REQUIRE(a);
  CHECK(native::describe(a->runs) == "bridge=native bandwidth=native");
  CHECK(json::parse(a->result_json).at("ips").at(0).at("address") == "10.77.0.2/24");
  std::string veth_a = json::parse(a->result_json)["interfaces"][1]["name"];
  CHECK(host.run("tc qdisc show dev " + veth_a).find("tbf") == std::string::npos);

  // A limit in the config: the plugin shapes the host end of the veth.
  auto limited = with_bandwidth(
      {{"type", "bandwidth"}, {"ingressRate", 8000000}, {"ingressBurst", 16000000}});
  auto b = run(limited, pod_b, "b");
  INFO((b ? std::string() : b.error().message()));
  REQUIRE(b);
  CHECK(native::describe(b->runs) == "bridge=native bandwidth=exec (a bandwidth limit)");
  std::string veth_b = json::parse(b->result_json)["interfaces"][1]["name"];
  CHECK_THAT(host.run("tc qdisc show dev " + veth_b), Catch::Contains("tbf"));
  CHECK(native_del(limited, pod_of(pod_b, "b"), b->result_json, host.fd()));
  CHECK(native_del(no_limit, pod_of(pod_a, "a"), a->result_json, host.fd()));
  CHECK(pod_a.off_network());
  CHECK(pod_b.off_network());
}

TEST_CASE("tuning's sysctls are written natively in the pod, as the plugin writes them") {
  scratch_netns host, pod_a, pod_b, pod_c;
  chained net(host);
  json sysctls = {{"net.ipv4.conf.IFNAME.arp_ignore", "1"}, {"net.core.somaxconn", "512"}};
  auto list = net.with({{"type", "tuning"}, {"sysctl", sysctls}});
  auto a = net.add(list, pod_a, "a");
  INFO((a ? std::string() : a.error().message()));
  REQUIRE(a);
  CHECK(native::describe(a->runs) == "bridge=native tuning=native");
  CHECK(pod_a.run("cat /proc/sys/net/ipv4/conf/eth0/arp_ignore") == "1\n");
  CHECK(pod_a.run("cat /proc/sys/net/core/somaxconn") == "512\n");
  CHECK(json::parse(a->result_json).at("ips").at(0).at("address") == "10.77.0.2/24");
  CHECK(net.check(list, pod_a, "a", a->result_json));
  pod_a.run("sh -c 'echo 0 > /proc/sys/net/ipv4/conf/eth0/arp_ignore'");
  auto drifted = net.check(list, pod_a, "a", a->result_json);
  REQUIRE_FALSE(drifted);
  CHECK_THAT(drifted.error().message(), Catch::Contains("arp_ignore is 1, current value is 0"));

  // The plugin, for the same sysctls, writes the same.
  ringcri::testing::temp_dir store("ringcri-native-tuning");
  auto b = net.add(net.with({{"type", "loopback"}}), pod_b, "b");  // pod b's eth0
  REQUIRE(b);
  json plugin_conf = {{"cniVersion", "1.0.0"}, {"name", "rcnative"}, {"type", "tuning"},
                      {"sysctl", sysctls}, {"prevResult", json::parse(b->result_json)}};
  auto p = cni::run_delegate(cni::command::add, "tuning", plugin_conf.dump(), pod_of(pod_b, "b"),
                             net.dirs, std::chrono::seconds(30));
  INFO((p ? std::string() : p.error().message()));
  REQUIRE(p);
  CHECK(pod_b.run("cat /proc/sys/net/ipv4/conf/eth0/arp_ignore") == "1\n");
  CHECK(pod_b.run("cat /proc/sys/net/core/somaxconn") == "512\n");

  // Link settings run the plugin; a key outside /proc/sys/net is its error.
  auto mtu = net.add(net.with({{"type", "tuning"}, {"mtu", 1300}}), pod_c, "c");
  INFO((mtu ? std::string() : mtu.error().message()));
  REQUIRE(mtu);
  CHECK(native::describe(mtu->runs) == "bridge=native tuning=exec (link settings)");
  CHECK(pod_c.ip("link show dev eth0").at(0).at("mtu") == 1300);
  auto outside = native::choose_tuning(
      json{{"sysctl", {{"kernel.pid_max", "100000"}}}}, pod_of(pod_c, "c"));
  CHECK_FALSE(outside.config);
  CHECK_THAT(outside.exec_reason, Catch::Contains("sysctl key"));
}
