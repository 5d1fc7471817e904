// ipMasq and portmap done natively with the daemon's nftables table,
// against Debian's plugins (iptables) on the same conflist, in network
// namespaces of the test's own: one plays the host, one the pod, one the
// outside world behind the host (192.0.2.0/24). Behaviour is compared from
// outside: a server in the outside namespace says which source address it
// saw (the host's, through masquerade), a server in the pod answers on a
// host port from the outside, from 127.0.0.1 on the host, and from the pod
// itself (hairpin). The table is read with `nft -j`. Closing the
// namespaces frees everything: nothing is left on the node. Needs root,
// iproute2, nsenter, nft, python3, iptables and the plugins (exit 77).

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "net/cni/network.hpp"
#include "net/native/chain.hpp"
#include "net/netlink/links.hpp"
#include "net/netlink/netns.hpp"
#include "reactor/reactor.hpp"
#include "support/node_network.hpp"
#include "support/scratch_netns.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

namespace cni = ringcri::net::cni;
namespace native = ringcri::net::native;
namespace nl = ringcri::net::netlink;
using nlohmann::json;
namespace fs = std::filesystem;
using ringcri::testing::shell_output;

namespace {

void need_tools() {
  static bool checked = false;
  if (checked) return;
  ringcri::testing::need_root_ip_nsenter();
  for (const char* tool : {"nft", "python3", "iptables"})
    if (shell_output(std::string("command -v ") + tool).empty())
      ringcri::testing::skip_binary(std::string("no ") + tool);
  for (const char* plugin : {"bridge", "host-local", "portmap"})
    if (!fs::exists(fs::path("/usr/lib/cni") / plugin))
      ringcri::testing::skip_binary(std::string("no /usr/lib/cni/") + plugin +
                                    " (Debian package containernetworking-plugins)");
  checked = true;
}

struct scratch_netns : ringcri::testing::scratch_netns {
  scratch_netns() { need_tools(); }
};

// A TCP server that answers each connection with the peer address it saw,
// for `seconds`; and the client that prints the answer.
const char* server_py = R"(
import socket, sys
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1]))); s.listen(8); s.settimeout(float(sys.argv[2]))
print("listening", flush=True)
try:
    while True:
        c, peer = s.accept()
        c.sendall(peer[0].removeprefix("::ffff:").encode()); c.close()
except socket.timeout:
    pass
)";
const char* client_py = R"(
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
print(c.recv(100).decode())
)";

// The host with its outside: host ext0 192.0.2.1/24 <-> ext1 192.0.2.2/24.
struct world {
  scratch_netns host, pod, outside;
  ringcri::testing::temp_dir dir{"ringcri-nat"};
  fs::path server = dir.path() / "server.py";
  fs::path client = dir.path() / "client.py";

  world() {
    std::ofstream(server) << server_py;
    std::ofstream(client) << client_py;
    ringcri::reactor::reactor r;
    auto made = r.block_on([&]() -> ringcri::reactor::task<ringcri::result<void>> {
      auto s = co_await nl::open_in_network_namespace(host.fd());
      if (!s) co_return tl::unexpected(s.error());
      nl::veth_pair pair;
      pair.name = "ext0";
      pair.peer_name = "ext1";
      pair.peer_netns_fd = outside.fd();
      co_return co_await s->run(nl::create_veth(pair));
    }());
    INFO((made ? std::string() : made.error().message()));
    REQUIRE(made);
    // IPv6 too, without duplicate address detection (on the bridge a
    // test's network makes, too), so nothing waits for it.
    host.run("sysctl -qw net.ipv6.conf.default.accept_dad=0");
    host.run("ip addr add 192.0.2.1/24 dev ext0");
    host.run("ip addr add 2001:db8:1::1/64 dev ext0 nodad");
    host.run("ip link set ext0 up");
    host.run("ip link set lo up");
    outside.run("ip addr add 192.0.2.2/24 dev ext1");
    outside.run("ip addr add 2001:db8:1::2/64 dev ext1 nodad");
    outside.run("ip link set ext1 up");
    outside.run("ip link set lo up");
  }

  // A server in `where` on `port` for a few seconds, ready when this returns.
  void serve(const scratch_netns& where, int port) const {
    where.run("sh -c 'python3 " + server.string() + " " + std::to_string(port) + " 8 > " +
              (dir.path() / ("server-" + std::to_string(port))).string() + " 2>&1 &'");
    for (int i = 0; i < 100; ++i) {
      std::ifstream in(dir.path() / ("server-" + std::to_string(port)));
      std::string line;
      if (std::getline(in, line) && line == "listening") return;
      ::usleep(20000);
    }
    FAIL("the server did not start");
  }
  // The source address the server at address:port saw, or "" when the
  // connection failed.
  std::string connect(const scratch_netns& from, const std::string& address, int port) const {
    int status = 0;
    std::string out = shell_output("nsenter --net=" + from.path() + " python3 " + client.string() + " " +
                                       address + " " + std::to_string(port) + " 2>/dev/null",
                                   &status);
    if (status != 0) return "";
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
};

// `ipv6_subnet`: a second range set (dual stack).
cni::network_list network(const fs::path& data_dir, const std::string& subnet = "10.77.0.0/24",
                          const std::string& name = "rcnat", const std::string& bridge = "rcnbr0",
                          const std::string& ipv6_subnet = "") {
  std::string ranges = R"([{"subnet": ")" + subnet + R"("}])";
  if (!ipv6_subnet.empty()) ranges += R"(, [{"subnet": ")" + ipv6_subnet + R"("}])";
  std::string conf = R"({"cniVersion": "1.0.0", "name": ")" + name + R"(", "plugins": [
    {"type": "bridge", "bridge": ")" + bridge + R"(", "isGateway": true, "isDefaultGateway": true,
     "hairpinMode": true, "ipMasq": true,
     "ipam": {"type": "host-local", "dataDir": ")" +
                     data_dir.string() + R"(", "ranges": [)" + ranges + R"(]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}]})";
  auto list = cni::parse_network_list(conf, "rcnat.conflist");
  REQUIRE(list);
  return *list;
}

// A plugin dir whose bridge and portmap run Debian's inside `host`.
fs::path plugins_in(const ringcri::testing::temp_dir& dir, const scratch_netns& host) {
  for (const char* plugin : {"bridge", "portmap"}) {
    fs::path wrapper = dir.path() / plugin;
    std::ofstream(wrapper) << "#!/bin/sh\nexec nsenter --net=" << host.path() << " /usr/lib/cni/" << plugin
                           << " \"$@\"\n";
    fs::permissions(wrapper, fs::perms::owner_all);
  }
  return dir.path();
}

cni::attachment pod_of(const scratch_netns& pod, const std::string& id, std::uint16_t host_port = 8080) {
  cni::attachment a;
  a.container_id = id;
  a.netns_path = pod.path();
  cni::port_mapping m;
  m.host_port = host_port;
  m.container_port = 80;
  a.port_mappings.push_back(m);
  return a;
}

native::chain_options options_for(const scratch_netns& host, const std::vector<std::string>& dirs,
                                  native::native_mode mode) {
  native::chain_options o;
  o.host_netns_fd = host.fd();
  o.plugin_dirs = dirs;
  o.mode = mode;
  return o;
}

ringcri::result<native::chain_add_result> run_add(const cni::network_list& list, const cni::attachment& pod,
                                              const native::chain_options& o) {
  ringcri::reactor::reactor r;
  return r.block_on(native::add(list, pod, o));
}
ringcri::result<void> run_del(const cni::network_list& list, const cni::attachment& pod, const std::string& prev,
                          const native::chain_options& o) {
  ringcri::reactor::reactor r;
  return r.block_on(native::del(list, pod, prev, o));
}
ringcri::result<void> run_check(const cni::network_list& list, const cni::attachment& pod, const std::string& prev,
                            const native::chain_options& o) {
  ringcri::reactor::reactor r;
  return r.block_on(native::check(list, pod, prev, o));
}

// The elements of the table's sets and maps, as nft prints them.
json elements(const scratch_netns& host) {
  int status = 0;
  std::string out = shell_output("nsenter --net=" + host.path() + " nft -j list table ip ringcri 2>/dev/null", &status);
  json sets = json::object();
  if (status != 0) return sets;
  const json doc = json::parse(out);
  for (const json& item : doc.at("nftables"))
    for (const char* kind : {"set", "map"})
      if (item.contains(kind)) {
        const json& s = item.at(kind);
        sets[s.at("name").get<std::string>()] = s.contains("elem") ? s.at("elem") : json::array();
      }
  return sets;
}

std::size_t element_count(const scratch_netns& host) {
  std::size_t n = 0;
  const json sets = elements(host);
  for (const auto& [name, elems] : sets.items()) n += elems.size();
  return n;
}

// What the pod's network does, seen from outside.
struct behaviour {
  std::string outside_sees;     // the source of the pod's connection to the outside
  std::string pod_sees_outside;  // the source of the outside's connection to the host port
  std::string pod_sees_local;    // ... of the host's connection to 127.0.0.1:<port>
  std::string pod_sees_hairpin;  // ... of the pod's own connection to the host port
};

behaviour observe(const world& w) {
  behaviour b;
  w.serve(w.outside, 9000);
  w.serve(w.pod, 80);
  b.outside_sees = w.connect(w.pod, "192.0.2.2", 9000);
  b.pod_sees_outside = w.connect(w.outside, "192.0.2.1", 8080);
  b.pod_sees_local = w.connect(w.host, "127.0.0.1", 8080);
  b.pod_sees_hairpin = w.connect(w.pod, "192.0.2.1", 8080);
  return b;
}

}  // namespace

TEST_CASE("native ipMasq and portmap behave as the plugins do, with nftables and no process") {
  world native_world, plugin_world;
  ringcri::testing::temp_dir plugins("ringcri-nat-plugins");
  std::vector<std::string> dirs{plugins_in(plugins, plugin_world.host).string(), "/usr/lib/cni"};

  auto list_n = network(native_world.dir.path() / "ipam");
  auto list_p = network(plugin_world.dir.path() / "ipam");
  auto n = run_add(list_n, pod_of(native_world.pod, "c1"),
               options_for(native_world.host, {"/usr/lib/cni"}, native::native_mode::automatic));
  INFO((n ? std::string() : n.error().message()));
  REQUIRE(n);
  CHECK(native::describe(n->runs) == "bridge=native portmap=native");
  auto p = run_add(list_p, pod_of(plugin_world.pod, "c1"), options_for(plugin_world.host, dirs, native::native_mode::off));
  INFO((p ? std::string() : p.error().message()));
  REQUIRE(p);
  CHECK(json::parse(n->result_json)["ips"] == json::parse(p->result_json)["ips"]);

  // The table holds the pod's masquerade and host port; no iptables rule
  // was made on the native host.
  json sets = elements(native_world.host);
  REQUIRE(sets.contains("masquerade"));
  CHECK(sets["masquerade"].dump().find("10.77.0.2") != std::string::npos);
  CHECK(sets["masquerade"].dump().find("c1/eth0") != std::string::npos);
  CHECK(sets["masquerade"].dump().find("masq-10.77.0.0/24") != std::string::npos);
  CHECK(sets["host_ports"].dump().find("8080") != std::string::npos);
  CHECK(sets["host_ports"].dump().find("10.77.0.2") != std::string::npos);
  CHECK(sets["host_port_clients"].size() == 1);
  CHECK(native_world.host.run("iptables -t nat -S").find("CNI") == std::string::npos);
  CHECK(plugin_world.host.run("iptables -t nat -S").find("CNI") != std::string::npos);
  CHECK(native_world.host.run("cat /proc/sys/net/ipv4/conf/rcnbr0/route_localnet") == "1\n");
  CHECK(plugin_world.host.run("cat /proc/sys/net/ipv4/conf/rcnbr0/route_localnet") == "1\n");

  behaviour bn = observe(native_world);
  behaviour bp = observe(plugin_world);
  CHECK(bn.outside_sees == "192.0.2.1");  // masqueraded
  CHECK(bn.pod_sees_outside == "192.0.2.2");
  CHECK(!bn.pod_sees_local.empty());
  CHECK(!bn.pod_sees_hairpin.empty());
  CHECK(bn.outside_sees == bp.outside_sees);
  CHECK(bn.pod_sees_outside == bp.pod_sees_outside);
  CHECK(bn.pod_sees_local == bp.pod_sees_local);
  CHECK(bn.pod_sees_hairpin == bp.pod_sees_hairpin);

  CHECK(run_check(list_n, pod_of(native_world.pod, "c1"), n->result_json,
              options_for(native_world.host, {"/usr/lib/cni"}, native::native_mode::automatic)));

  // DEL leaves no element; a second DEL, and one without a result, succeed.
  auto o = options_for(native_world.host, {"/usr/lib/cni"}, native::native_mode::automatic);
  REQUIRE(run_del(list_n, pod_of(native_world.pod, "c1"), n->result_json, o));
  CHECK(element_count(native_world.host) == 0);
  CHECK(run_del(list_n, pod_of(native_world.pod, "c1"), n->result_json, o));
  CHECK(run_del(list_n, pod_of(native_world.pod, "c1"), "", o));
  CHECK(native_world.connect(native_world.outside, "192.0.2.1", 8080).empty());
  REQUIRE(run_del(list_p, pod_of(plugin_world.pod, "c1"), p->result_json, options_for(plugin_world.host, dirs, native::native_mode::off)));
}

TEST_CASE("over IPv6 too (dual stack), native masquerade and host ports behave as the plugins do") {
  if (shell_output("command -v ip6tables").empty()) ringcri::testing::skip_binary("no ip6tables");
  world native_world, plugin_world;
  ringcri::testing::temp_dir plugins("ringcri-nat-plugins");
  std::vector<std::string> dirs{plugins_in(plugins, plugin_world.host).string(), "/usr/lib/cni"};
  auto list_n = network(native_world.dir.path() / "ipam", "10.77.0.0/24", "rcnat", "rcnbr0",
                        "fd00:77::/64");
  auto list_p = network(plugin_world.dir.path() / "ipam", "10.77.0.0/24", "rcnat", "rcnbr0",
                        "fd00:77::/64");
  auto n = run_add(list_n, pod_of(native_world.pod, "c1"),
                   options_for(native_world.host, {"/usr/lib/cni"}, native::native_mode::automatic));
  INFO((n ? std::string() : n.error().message()));
  REQUIRE(n);
  CHECK(native::describe(n->runs) == "bridge=native portmap=native");
  auto p = run_add(list_p, pod_of(plugin_world.pod, "c1"),
                   options_for(plugin_world.host, dirs, native::native_mode::off));
  INFO((p ? std::string() : p.error().message()));
  REQUIRE(p);
  CHECK(json::parse(n->result_json)["ips"] == json::parse(p->result_json)["ips"]);
  CHECK(n->ips.size() == 2);
  // Each family's table has the pod's masquerade, host port and client.
  CHECK(element_count(native_world.host) == 3);
  int status = 0;
  std::string v6 = shell_output(
      "nsenter --net=" + native_world.host.path() + " nft -j list table ip6 ringcri", &status);
  REQUIRE(status == 0);
  CHECK_THAT(v6, Catch::Contains("fd00:77::2") && Catch::Contains("masq-fd00:77::/64"));

  auto seen = [](const world& w) {
    w.serve(w.outside, 9000);
    w.serve(w.pod, 80);
    return std::vector<std::string>{
        w.connect(w.pod, "2001:db8:1::2", 9000),     // the pod to the outside
        w.connect(w.outside, "2001:db8:1::1", 8080),  // the outside to the host port
        w.connect(w.pod, "2001:db8:1::1", 8080),      // the pod to its own host port
        w.connect(w.pod, "192.0.2.2", 9000), w.connect(w.outside, "192.0.2.1", 8080)};
  };
  auto bn = seen(native_world);
  auto bp = seen(plugin_world);
  CHECK(bn[0] == "2001:db8:1::1");  // masqueraded
  CHECK(bn[1] == "2001:db8:1::2");
  CHECK(!bn[2].empty());
  CHECK(bn[3] == "192.0.2.1");
  CHECK(bn == bp);

  auto o = options_for(native_world.host, {"/usr/lib/cni"}, native::native_mode::automatic);
  CHECK(run_check(list_n, pod_of(native_world.pod, "c1"), n->result_json, o));
  REQUIRE(run_del(list_n, pod_of(native_world.pod, "c1"), n->result_json, o));
  CHECK(element_count(native_world.host) == 0);
  CHECK(shell_output("nsenter --net=" + native_world.host.path() +
                     " nft -j list table ip6 ringcri")
            .find("fd00:77::2") == std::string::npos);
  REQUIRE(run_del(list_p, pod_of(plugin_world.pod, "c1"), p->result_json,
                  options_for(plugin_world.host, dirs, native::native_mode::off)));
}

TEST_CASE("DEL and CHECK take the way ADD took, whatever the native mode is now") {
  world w;
  ringcri::testing::temp_dir plugins("ringcri-nat-plugins");
  std::vector<std::string> dirs{plugins_in(plugins, w.host).string(), "/usr/lib/cni"};
  auto list = network(w.dir.path() / "ipam");

  // ADDed natively, DELeted with the native path off: the record's runs
  // say native, so the elements go.
  auto n = run_add(list, pod_of(w.pod, "a"), options_for(w.host, dirs, native::native_mode::automatic));
  REQUIRE(n);
  CHECK(element_count(w.host) == 3);
  auto off = options_for(w.host, dirs, native::native_mode::off);
  off.added = native::parse_runs(native::describe(n->runs));
  REQUIRE(off.added.size() == 2);
  CHECK(run_check(list, pod_of(w.pod, "a"), n->result_json, off));
  REQUIRE(run_del(list, pod_of(w.pod, "a"), n->result_json, off));
  CHECK(element_count(w.host) == 0);
  CHECK(w.pod.off_network());

  // ADDed by the plugins, DELeted with the native path on: the plugins'
  // DEL removes their iptables rules. (A pod of its own namespace, as
  // every pod has: the first one's addressless veth goes with its own.)
  scratch_netns pod_b;
  auto p = run_add(list, pod_of(pod_b, "b"), off);
  REQUIRE(p);
  CHECK(native::describe(p->runs).find("bridge=exec") == 0);
  CHECK(w.host.run("iptables -t nat -S").find("-j DNAT") != std::string::npos);
  auto on = options_for(w.host, dirs, native::native_mode::automatic);
  on.added = native::parse_runs(native::describe(p->runs));
  CHECK(!on.added.at(0).native);
  REQUIRE(run_del(list, pod_of(pod_b, "b"), p->result_json, on));
  CHECK(w.host.run("iptables -t nat -S").find("-j DNAT") == std::string::npos);
  CHECK(w.host.run("iptables -t nat -S").find("10.77.0.") == std::string::npos);
  CHECK(pod_b.ip("link show").size() == 1);
}

TEST_CASE("a host port another pod holds fails the native ADD with ALREADY_EXISTS, leaving nothing") {
  world w;
  scratch_netns pod_b;
  auto list = network(w.dir.path() / "ipam");
  auto o = options_for(w.host, {"/usr/lib/cni"}, native::native_mode::automatic);
  auto a = run_add(list, pod_of(w.pod, "a"), o);
  REQUIRE(a);
  auto b = run_add(list, pod_of(pod_b, "b"), o);
  REQUIRE(!b);
  CHECK(b.error().kind() == ringcri::error_kind::already_exists);
  CHECK_THAT(b.error().message(), Catch::Contains("8080/tcp"));
  CHECK(pod_b.off_network());
  // Pod a keeps its port and masquerade; b left no element.
  CHECK(element_count(w.host) == 3);
  w.serve(w.pod, 80);
  CHECK(w.connect(w.outside, "192.0.2.1", 8080) == "192.0.2.2");
  // Another port is fine.
  auto c = run_add(list, pod_of(pod_b, "b", 8081), o);
  INFO((c ? std::string() : c.error().message()));
  CHECK(c);
}

TEST_CASE("two networks on one node: each pod masqueraded and mapped, one's DEL leaves the other's") {
  world w;
  scratch_netns pod_b;
  auto first = network(w.dir.path() / "ipam", "10.77.0.0/24");
  auto second = network(w.dir.path() / "ipam", "10.78.0.0/24", "rcnat2", "rcnbr1");
  auto o = options_for(w.host, {"/usr/lib/cni"}, native::native_mode::automatic);
  auto a = run_add(first, pod_of(w.pod, "a"), o);
  REQUIRE(a);
  auto b = run_add(second, pod_of(pod_b, "b", 8081), o);
  INFO((b ? std::string() : b.error().message()));
  REQUIRE(b);
  CHECK(native::describe(b->runs) == "bridge=native portmap=native");
  CHECK(element_count(w.host) == 6);
  const std::string masq = elements(w.host)["masquerade"].dump();
  CHECK_THAT(masq, Catch::Contains("masq-10.77.0.0/24") && Catch::Contains("masq-10.78.0.0/24"));

  // The servers answer for 8 s: long enough for both rounds.
  w.serve(w.outside, 9000);
  w.serve(w.pod, 80);
  w.serve(pod_b, 80);
  CHECK(w.connect(w.pod, "192.0.2.2", 9000) == "192.0.2.1");
  CHECK(w.connect(pod_b, "192.0.2.2", 9000) == "192.0.2.1");
  CHECK(w.connect(w.outside, "192.0.2.1", 8080) == "192.0.2.2");
  CHECK(w.connect(w.outside, "192.0.2.1", 8081) == "192.0.2.2");

  REQUIRE(run_del(second, pod_of(pod_b, "b", 8081), b->result_json, o));
  CHECK(element_count(w.host) == 3);
  CHECK(pod_b.off_network());
  CHECK(w.connect(w.outside, "192.0.2.1", 8081).empty());
  CHECK(w.connect(w.pod, "192.0.2.2", 9000) == "192.0.2.1");
  CHECK(w.connect(w.outside, "192.0.2.1", 8080) == "192.0.2.2");
  REQUIRE(run_del(first, pod_of(w.pod, "a"), a->result_json, o));
  CHECK(element_count(w.host) == 0);
}

TEST_CASE("the runs of a pod's record read back from their description") {
  std::vector<native::plugin_run> runs(3);
  runs[0] = {"bridge", true, ""};
  runs[1] = {"portmap", false, "\"conditionsV4\" (x=native)"};
  runs[2] = {"tuning", false, ""};
  auto back = native::parse_runs(native::describe(runs));
  REQUIRE(back.size() == 3);
  CHECK(back[0].type == "bridge");
  CHECK(back[0].native);
  CHECK(back[1].type == "portmap");
  CHECK(!back[1].native);
  CHECK(back[2].type == "tuning");
  CHECK(native::parse_runs("").empty());
}
