#pragma once
// A CNI network of a test's own, run by the real plugins of Debian's
// containernetworking-plugins (bridge, host-local, portmap, bandwidth):
// its bridge and subnet used by nothing else, its IP reservations in the
// test's own dir, so all traffic stays between the namespaces the test
// made and nothing is left on the node (ip_forward and CNI's iptables
// chains are given back too).

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "support/node_network.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

namespace ringcri::testing {

namespace fs = std::filesystem;

inline void skip_unless_cni() {
  for (const char* plugin : {"/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/portmap",
                             "/usr/lib/cni/bandwidth"}) {
    if (!fs::exists(plugin))
      skip_binary(std::string(plugin) + " is missing (Debian package containernetworking-plugins)");
  }
}

// The test's network: a config dir with one conflist, and the daemon's
// config pointing at it. The node's ip_forward and CNI iptables chains
// are given back at the end.
struct test_network {
  node_network_snapshot node_before;
  temp_dir dir{"ringcri-net"};
  std::string bridge = "rcri" + std::to_string(::getpid() % 100000);
  std::string subnet_prefix = "10.252.17.";

  test_network() {
    skip_unless_cni();
    fs::create_directories(dir.path() / "net.d");
    fs::create_directories(dir.path() / "empty-plugins");
    write_conflist(conflist());
    write_config({"/usr/lib/cni"});
  }
  ~test_network() { (void)shell_output("ip link del " + bridge + " 2>/dev/null"); }

  fs::path ipam_dir() const { return dir.path() / "ipam"; }
  fs::path config() const { return dir.path() / "ringcri.toml"; }
  std::vector<std::string> daemon_flags() const { return {"--config", config().string()}; }

  std::string conflist(const std::string& subnet = "") const {
    return R"({"cniVersion":"1.0.0","name":"ringcri-test","plugins":[
      {"type":"bridge","bridge":")" + bridge + R"(","isGateway":true,"ipMasq":false,"hairpinMode":true,
       "ipam":{"type":"host-local","dataDir":")" + ipam_dir().string() + R"(",
               "ranges":[[{"subnet":")" + (subnet.empty() ? subnet_prefix + "0/24" : subnet) + R"("}]]}},
      {"type":"portmap","capabilities":{"portMappings":true}}]})";
  }
  void write_conflist(const std::string& text) const {
    std::ofstream(dir.path() / "net.d" / "10-test.conflist", std::ios::trunc) << text;
  }
  // `native`: the daemon's cni.native ("auto" or "off").
  void write_config(const std::vector<std::string>& plugin_dirs, const std::string& native = "auto") const {
    std::ofstream out(config(), std::ios::trunc);
    out << "[cni]\nconf_dir = \"" << (dir.path() / "net.d").string() << "\"\nnative = \"" << native
        << "\"\nplugin_dirs = [";
    for (std::size_t i = 0; i < plugin_dirs.size(); ++i) out << (i ? ", " : "") << '"' << plugin_dirs[i] << '"';
    out << "]\n";
  }

  // The IPs host-local holds for pods (one file per address).
  std::vector<std::string> reservations() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(ipam_dir(), ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->path().filename().string().rfind(subnet_prefix, 0) == 0) out.push_back(it->path().filename());
    return out;
  }
  // The host ends of the veths on the bridge.
  std::size_t veths() const {
    auto text = shell_output("ip -o link show master " + bridge + " 2>/dev/null");
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  }
  // The same once `expected` is reached, or after 5 s: the native bridge's
  // DEL leaves a pod's veth to the end of its network namespace, which the
  // kernel finishes a little after StopPodSandbox answers.
  std::size_t veths_settled(std::size_t expected) const {
    std::size_t n = veths();
    for (int i = 0; i < 250 && n != expected; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      n = veths();
    }
    return n;
  }
};


}  // namespace ringcri::testing
