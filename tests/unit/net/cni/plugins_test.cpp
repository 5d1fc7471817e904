// ADD, DEL and CHECK with Debian's real CNI plugins (bridge, host-local,
// loopback, portmap from /usr/lib/cni), on network namespaces this test
// makes, a bridge and a 10.251.x.0/24 subnet of its own, and host-local
// state in its temp dir: the pod gets an address and lo, two pods talk
// over the bridge, a host port on 127.0.0.1 reaches the pod, DEL leaves
// nothing and can be repeated, also after the netns is gone, and a
// failing or missing plugin is reported in its own words with nothing
// left behind. At the end the bridge, the netns files, the iptables rules
// the plugins made and ip_forward are as they were. Needs root (exit 77).

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "net/cni/config.hpp"
#include "net/cni/network.hpp"
#include "support/node_network.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

namespace cni = ringcri::net::cni;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<std::string> plugin_dirs = {"/usr/lib/cni"};

// Output and error output of `cmd`, run by sh.
std::string run(const std::string& cmd, int* status = nullptr) {
  return ringcri::testing::shell_output(cmd + " 2>&1", status);
}

bool succeeds(const std::string& cmd) {
  int status = 1;
  run(cmd, &status);
  return status == 0;
}

void skip(const std::string& why) { ringcri::testing::skip_binary(why); }

// Exits 77 with the reason when this host cannot run the test.
void need_root_and_plugins() {
  if (::geteuid() != 0) skip("needs root to make network namespaces and run CNI plugins");
  for (const char* p : {"bridge", "host-local", "loopback", "portmap"})
    if (::access((fs::path("/usr/lib/cni") / p).c_str(), X_OK) != 0)
      skip(std::string("no CNI plugin /usr/lib/cni/") + p +
           " (Debian package containernetworking-plugins)");
  for (const char* tool : {"ip", "nsenter", "iptables"})
    if (!succeeds(std::string("command -v ") + tool)) skip(std::string("no ") + tool);
  if (::access("/usr/bin/python3", X_OK) != 0) skip("no /usr/bin/python3");
}

// The host as this test finds and leaves it: its bridge and subnet, and
// the iptables rules and ip_forward from before, restored at exit.
struct test_host {
  ringcri::testing::temp_dir dir{"ringcri-cni-test"};
  std::string bridge;
  std::string network;
  int subnet_octet = 0;
  ringcri::testing::node_network_snapshot node_before;

  test_host() {
    int id = static_cast<int>(::getpid() % 100000);
    bridge = "rcni" + std::to_string(id);
    network = "ringcri-test-" + std::to_string(id);
    // A /24 nobody routes yet.
    for (int i = 0; i < 200 && subnet_octet == 0; ++i) {
      int octet = 20 + (id + i) % 200;
      if (run("ip -4 route show 10.251." + std::to_string(octet) + ".0/24").empty())
        subnet_octet = octet;
    }
    if (subnet_octet == 0) skip("no free 10.251.x.0/24");
    std::printf("bridge %s, subnet %s, state in %s\n", bridge.c_str(), subnet().c_str(),
                dir.path().c_str());
  }

  ~test_host() { run("ip link del " + bridge); }

  std::string subnet() const { return "10.251." + std::to_string(subnet_octet) + ".0/24"; }
  std::string subnet_prefix() const { return "10.251." + std::to_string(subnet_octet) + "."; }
  fs::path data_dir() const { return dir.path() / "ipam"; }
  fs::path reservations() const { return data_dir() / network; }

  // The pod network: loopback, bridge with host-local, portmap. `bridge_extra`
  // and `portmap_extra` are merged into those plugins' configs.
  cni::network_list list(const json& bridge_extra = json::object(),
                         const json& ipam_extra = json::object(),
                         const json& portmap_extra = json::object()) const {
    json ipam = {{"type", "host-local"},
                 {"dataDir", data_dir().string()},
                 {"ranges", json::array({json::array({{{"subnet", subnet()}}})})},
                 {"routes", json::array({{{"dst", "0.0.0.0/0"}}})}};
    ipam.update(ipam_extra);
    json br = {{"type", "bridge"}, {"bridge", bridge},    {"isGateway", true},
               {"ipMasq", true},   {"hairpinMode", true}, {"ipam", ipam}};
    br.update(bridge_extra);
    json pm = {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", true}};
    pm.update(portmap_extra);
    json doc = {{"cniVersion", "1.0.0"},
                {"name", network},
                {"plugins", json::array({{{"type", "loopback"}}, br, pm})}};
    auto parsed = cni::parse_network_list(doc.dump(), "plugins_test.conflist");
    REQUIRE(parsed.has_value());
    return std::move(*parsed);
  }

  // The IP files host-local holds (not its lock and last-reserved files).
  std::vector<std::string> reserved_ips() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(reservations(), ec)) {
      auto name = e.path().filename().string();
      if (name.rfind("10.", 0) == 0) out.push_back(name);
    }
    return out;
  }

  // The interfaces enslaved to the test's bridge (the pods' host veths).
  std::string bridge_ports() const { return run("ip -o link show master " + bridge); }
};

test_host& host() {
  static bool checked = (need_root_and_plugins(), true);
  (void)checked;
  static test_host h;
  return h;
}

// A network namespace pinned on a file of the test's temp dir, made by a
// child that unshares its netns and bind-mounts it there.
struct netns {
  fs::path file;

  explicit netns(const std::string& name) : file(host().dir.path() / ("netns-" + name)) {
    std::ofstream(file).close();
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
      if (::mount("/proc/self/ns/net", file.c_str(), nullptr, MS_BIND, nullptr) != 0) ::_exit(2);
      ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
  }
  ~netns() { remove(); }
  netns(const netns&) = delete;
  netns& operator=(const netns&) = delete;

  void unmount() const { ::umount2(file.c_str(), MNT_DETACH); }
  void remove() const {
    unmount();
    std::error_code ec;
    fs::remove(file, ec);
  }

  std::string in(const std::string& cmd) const {
    return "nsenter --net=" + file.string() + " " + cmd;
  }
};

cni::attachment attachment_for(const netns& ns, const std::string& id) {
  cni::attachment pod;
  pod.container_id = id;
  pod.netns_path = ns.file.string();
  pod.args = {{"IgnoreUnknown", "1"},
              {"K8S_POD_NAMESPACE", "default"},
              {"K8S_POD_NAME", id},
              {"K8S_POD_INFRA_CONTAINER_ID", id},
              {"K8S_POD_UID", "uid-" + id}};
  return pod;
}

// ADDed pod, DELeted when the test is done with it (also on failure).
struct attached_pod {
  const cni::network_list& list;
  cni::attachment pod;
  cni::add_result added;
  bool deleted = false;

  attached_pod(const cni::network_list& l, cni::attachment a) : list(l), pod(std::move(a)) {
    auto start = std::chrono::steady_clock::now();
    auto r = cni::add(list, pod, plugin_dirs);
    auto took = std::chrono::steady_clock::now() - start;
    INFO((r ? std::string() : r.error().message()));
    REQUIRE(r.has_value());
    added = std::move(*r);
    std::printf("ADD %s: %s in %lld ms\n", pod.container_id.c_str(),
                added.ips.empty() ? "no IP" : added.ips[0].address.c_str(),
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  }
  ~attached_pod() {
    if (!deleted) (void)cni::del(list, pod, added.result_json, plugin_dirs);
  }

  const std::string& ip() const { return added.ips.at(0).address; }

  // The host end of the pod's veth, from the result.
  std::string host_veth() const {
    json doc = json::parse(added.result_json);
    for (const auto& iface : doc["interfaces"])
      if (!iface.contains("sandbox") && iface["name"] != host().bridge)
        return iface["name"].get<std::string>();
    return {};
  }

  void del() {
    auto r = cni::del(list, pod, added.result_json, plugin_dirs);
    INFO((r ? std::string() : r.error().message()));
    REQUIRE(r.has_value());
    deleted = true;
  }
};

// A one-connection TCP echo server in `ns` on `port`, started and ready.
struct echo_server {
  FILE* out = nullptr;

  echo_server(const netns& ns, int port) {
    auto script = host().dir.write("echo_server.py", R"py(
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(1)
s.settimeout(10)
print("ready", flush=True)
c, peer = s.accept()
c.settimeout(5)
data = c.recv(100)
c.sendall(b"echo " + data + b" to " + peer[0].encode())
c.close()
)py");
    out = ::popen(ns.in("/usr/bin/python3 " + script.string() + " " + std::to_string(port)).c_str(),
                  "r");
    REQUIRE(out != nullptr);
    char line[64] = {};
    REQUIRE(std::fgets(line, sizeof line, out) != nullptr);
    REQUIRE(std::string(line) == "ready\n");
  }
  ~echo_server() {
    if (out) ::pclose(out);
  }
};

// Connects to host:port (from `ns`, or from the host when null), sends
// "hello", gives what came back.
std::string echo_client(const netns* ns, const std::string& to, int port) {
  auto script = host().dir.write("echo_client.py", R"py(
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
c.sendall(b"hello")
print(c.recv(200).decode())
)py");
  std::string cmd = "/usr/bin/python3 " + script.string() + " " + to + " " + std::to_string(port);
  return run(ns ? ns->in(cmd) : cmd);
}

}  // namespace

TEST_CASE("ADD gives the pod an address of the subnet on eth0 and lo up; DEL undoes it",
          "[plugins]") {
  auto list = host().list();
  netns ns("basic");
  attached_pod pod(list, attachment_for(ns, "basic"));

  REQUIRE(pod.added.ips.size() == 1);
  const auto& ip = pod.added.ips[0];
  CHECK(ip.family == 4);
  CHECK(ip.address.rfind(host().subnet_prefix(), 0) == 0);
  CHECK(ip.prefix_length == 24);
  CHECK(ip.gateway == host().subnet_prefix() + "1");
  CHECK_THAT(run(ns.in("ip -4 -o addr show dev eth0")), Catch::Contains(ip.address + "/24"));
  CHECK_THAT(run(ns.in("ip -o link show dev lo")), Catch::Contains(",UP"));
  CHECK(host().reserved_ips() == std::vector<std::string>{ip.address});

  std::string veth = pod.host_veth();
  REQUIRE_FALSE(veth.empty());
  CHECK(succeeds("ip link show dev " + veth));
  CHECK_THAT(host().bridge_ports(), Catch::Contains(veth));

  auto checked = cni::check(list, pod.pod, pod.added.result_json, plugin_dirs);
  INFO((checked ? std::string() : checked.error().message()));
  CHECK(checked.has_value());

  pod.del();
  CHECK_FALSE(succeeds("ip link show dev " + veth));
  CHECK(host().bridge_ports().empty());
  CHECK(host().reserved_ips().empty());
  CHECK(run(ns.in("ip -o link show dev eth0")).find("eth0:") == std::string::npos);
  CHECK_THAT(run("iptables -t nat -S"), !Catch::Contains("id: \\\"basic\\\""));

  // Again: nothing left to delete is not an error.
  auto again = cni::del(list, pod.pod, pod.added.result_json, plugin_dirs);
  INFO((again ? std::string() : again.error().message()));
  CHECK(again.has_value());
  // And without the result.
  auto bare = cni::del(list, pod.pod, "", plugin_dirs);
  CHECK(bare.has_value());
}

TEST_CASE("CHECK reports the plugin's words when the pod's interface is gone", "[plugins]") {
  auto list = host().list();
  netns ns("check");
  attached_pod pod(list, attachment_for(ns, "check"));
  REQUIRE(succeeds(ns.in("ip link del eth0")));
  auto checked = cni::check(list, pod.pod, pod.added.result_json, plugin_dirs);
  REQUIRE_FALSE(checked.has_value());
  std::printf("CHECK error: %s\n", checked.error().message().c_str());
  CHECK_THAT(checked.error().message(), Catch::Contains("plugin bridge: "));
  pod.del();
  CHECK(host().reserved_ips().empty());
}

TEST_CASE("two pods on the bridge reach each other", "[plugins]") {
  auto list = host().list();
  netns a("a"), b("b");
  attached_pod pod_a(list, attachment_for(a, "pod-a"));
  attached_pod pod_b(list, attachment_for(b, "pod-b"));
  REQUIRE(pod_a.ip() != pod_b.ip());

  echo_server server(a, 7007);
  std::string reply = echo_client(&b, pod_a.ip(), 7007);
  CHECK(reply == "echo hello to " + pod_b.ip() + "\n");

  pod_a.del();
  pod_b.del();
  CHECK(host().bridge_ports().empty());
  CHECK(host().reserved_ips().empty());
}

TEST_CASE("a host port on 127.0.0.1 reaches the pod through portmap", "[plugins]") {
  auto list = host().list();
  netns ns("ports");
  int host_port = 20000 + static_cast<int>(::getpid() % 20000);
  auto attach = attachment_for(ns, "ports");
  attach.port_mappings = {{static_cast<uint16_t>(host_port), 8080, "tcp", "127.0.0.1"}};
  attached_pod pod(list, attach);

  std::string nat = run("iptables -t nat -S");
  CHECK_THAT(nat, Catch::Contains("--dport " + std::to_string(host_port)));

  {
    echo_server server(ns, 8080);
    std::string reply = echo_client(nullptr, "127.0.0.1", host_port);
    // Masqueraded (snat): the pod sees the bridge's address.
    CHECK(reply == "echo hello to " + host().subnet_prefix() + "1\n");
  }

  pod.del();
  nat = run("iptables -t nat -S");
  CHECK_THAT(nat, !Catch::Contains("--dport " + std::to_string(host_port)));
  CHECK_THAT(nat, !Catch::Contains("id: \\\"ports\\\""));
  CHECK(host().reserved_ips().empty());
}

TEST_CASE("DEL succeeds after the netns is unmounted and after its file is gone", "[plugins]") {
  auto list = host().list();
  netns ns("gone");
  attached_pod pod(list, attachment_for(ns, "gone"));
  std::string veth = pod.host_veth();

  // The file stays but is no longer a netns: passed as an empty CNI_NETNS.
  CHECK(cni::is_netns_file(ns.file.string()));
  ns.unmount();
  CHECK_FALSE(cni::is_netns_file(ns.file.string()));
  auto unmounted = cni::del(list, pod.pod, pod.added.result_json, plugin_dirs);
  INFO((unmounted ? std::string() : unmounted.error().message()));
  CHECK(unmounted.has_value());
  CHECK(host().reserved_ips().empty());

  // No file at all.
  ns.remove();
  auto missing = cni::del(list, pod.pod, pod.added.result_json, plugin_dirs);
  INFO((missing ? std::string() : missing.error().message()));
  CHECK(missing.has_value());
  pod.deleted = true;

  // The veth went with the namespace (the kernel tears it down shortly).
  for (int i = 0; i < 100 && succeeds("ip link show dev " + veth); ++i) ::usleep(20000);
  CHECK_FALSE(succeeds("ip link show dev " + veth));
  // bridge cannot tell which addresses it masqueraded once the netns is
  // gone: its ipMasq chain for this pod stays (removed at the end here).
  std::string nat = run("iptables -t nat -S");
  std::printf("ipMasq rules left after DEL without netns: %s\n",
              nat.find("id: \\\"gone\\\"") != std::string::npos ? "yes" : "no");
}

TEST_CASE("a plugin failing in ADD is reported in its words and nothing is left", "[plugins]") {
  SECTION("host-local (called by bridge) refuses its range") {
    auto list = host().list(
        json::object(), {{"ranges", json::array({json::array({{{"subnet", host().subnet()},
                                                               {"rangeStart", "10.99.0.10"}}})})}});
    netns ns("badrange");
    auto added = cni::add(list, attachment_for(ns, "badrange"), plugin_dirs);
    REQUIRE_FALSE(added.has_value());
    std::printf("ADD error: %s\n", added.error().message().c_str());
    CHECK_THAT(added.error().message(), Catch::Contains("plugin bridge: "));
    CHECK_THAT(added.error().message(), Catch::Contains("10.99.0.10"));
    CHECK(host().bridge_ports().empty());
    CHECK(host().reserved_ips().empty());
    CHECK(run(ns.in("ip -o link show dev eth0")).find("eth0:") == std::string::npos);
  }
  SECTION("portmap refuses its config after bridge has attached the pod") {
    auto list = host().list(json::object(), json::object(), {{"markMasqBit", 99}});
    netns ns("badportmap");
    auto attach = attachment_for(ns, "badportmap");
    attach.port_mappings = {{29999, 80, "tcp", ""}};
    auto added = cni::add(list, attach, plugin_dirs);
    REQUIRE_FALSE(added.has_value());
    std::printf("ADD error: %s\n", added.error().message().c_str());
    CHECK_THAT(added.error().message(), Catch::Contains("plugin portmap: "));
    CHECK(host().bridge_ports().empty());
    CHECK(host().reserved_ips().empty());
    CHECK(run(ns.in("ip -o link show dev eth0")).find("eth0:") == std::string::npos);
    CHECK_THAT(run("iptables -t nat -S"), !Catch::Contains("id: \\\"badportmap\\\""));
  }
}

TEST_CASE("a plugin type that is not installed is named, and the pod is torn down", "[plugins]") {
  auto base = host().list();
  json doc = json::parse(base.raw_json);
  doc["plugins"].push_back({{"type", "ringcri-no-such-plugin"}});
  auto list = cni::parse_network_list(doc.dump(), "missing.conflist");
  REQUIRE(list.has_value());
  netns ns("missing");
  auto added = cni::add(*list, attachment_for(ns, "missing"), plugin_dirs);
  REQUIRE_FALSE(added.has_value());
  CHECK_THAT(added.error().message(),
             Catch::Contains("plugin \"ringcri-no-such-plugin\" not found in /usr/lib/cni"));
  CHECK(host().bridge_ports().empty());
  CHECK(host().reserved_ips().empty());
}
