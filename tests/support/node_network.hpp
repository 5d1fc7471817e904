#pragma once
// The node's network state that CNI plugins change and that tests must
// give back: net.ipv4.ip_forward (bridge's isGateway turns it on for the
// whole node), the iptables rules and chains of CNI's (portmap's shared
// CNI-HOSTPORT-* chains stay after the last pod is gone) and the daemon's
// nftables tables `ip ringcri` and `ip6 ringcri` (their chains stay too),
// and net.ipv6.conf.all.forwarding (an IPv6 gateway). A test takes a
// snapshot first; its destructor deletes what was added since and puts
// ip_forward back. Header-only: unit and integration tests use it.

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace ringcri::testing {

// What `command` (run by sh) wrote to stdout; its exit status in `status`.
inline std::string shell_output(const std::string& command, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) {
    if (status) *status = 127;
    return out;
  }
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int st = ::pclose(p);
  if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  return out;
}

inline std::set<std::string> lines_of(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.insert(line);
  return out;
}

class node_network_snapshot {
 public:
  node_network_snapshot()
      : ip_forward_(read("/proc/sys/net/ipv4/ip_forward")),
        ipv6_forwarding_(read("/proc/sys/net/ipv6/conf/all/forwarding")),
        nat_(lines_of(shell_output("iptables -t nat -S 2>/dev/null"))),
        filter_(lines_of(shell_output("iptables -S 2>/dev/null"))),
        had_nat_table_(has_nat_table("ip")),
        had_nat6_table_(has_nat_table("ip6")) {}
  ~node_network_snapshot() {
    for (auto [family, had] : {std::pair{"ip", had_nat_table_}, std::pair{"ip6", had_nat6_table_}})
      if (!had && has_nat_table(family)) {
        shell_output(std::string("nft delete table ") + family + " ringcri 2>/dev/null");
        std::printf("removed the nftables table %s ringcri\n", family);
      }
    restore_table("nat", nat_);
    restore_table("filter", filter_);
    if (!ip_forward_.empty()) std::ofstream("/proc/sys/net/ipv4/ip_forward") << ip_forward_;
    if (!ipv6_forwarding_.empty())
      std::ofstream("/proc/sys/net/ipv6/conf/all/forwarding") << ipv6_forwarding_;
  }
  node_network_snapshot(const node_network_snapshot&) = delete;
  node_network_snapshot& operator=(const node_network_snapshot&) = delete;

 private:
  static bool has_nat_table(const char* family) {
    int status = 0;
    shell_output(std::string("nft list table ") + family + " ringcri >/dev/null 2>&1", &status);
    return status == 0;
  }

  static std::string read(const char* path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // Deletes the rules and chains with "CNI" in them added since the snapshot.
  static void restore_table(const std::string& table, const std::set<std::string>& before) {
    std::vector<std::string> new_rules, new_chains;
    for (const auto& line : lines_of(shell_output("iptables -t " + table + " -S 2>/dev/null"))) {
      if (before.contains(line) || line.find("CNI") == std::string::npos) continue;
      if (line.rfind("-A ", 0) == 0) new_rules.push_back(line);
      if (line.rfind("-N ", 0) == 0) new_chains.push_back(line.substr(3));
    }
    for (const auto& rule : new_rules) shell_output("iptables -t " + table + " -D " + rule.substr(3));
    for (const auto& chain : new_chains) shell_output("iptables -t " + table + " -F " + chain);
    for (const auto& chain : new_chains) shell_output("iptables -t " + table + " -X " + chain);
    if (!new_rules.empty() || !new_chains.empty())
      std::printf("removed %zu %s rules and %zu chains the CNI plugins left\n", new_rules.size(), table.c_str(),
                  new_chains.size());
  }

  std::string ip_forward_;
  std::string ipv6_forwarding_;
  std::set<std::string> nat_, filter_;
  bool had_nat_table_;
  bool had_nat6_table_;
};

}  // namespace ringcri::testing
