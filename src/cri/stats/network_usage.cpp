#include "cri/stats/network_usage.hpp"

#include <fstream>
#include <sstream>

#include "exec/sandbox/enter_netns.hpp"

namespace ringcri::cri::stats {

// /proc/net/dev: two header lines, then "  eth0: <rx bytes> <packets> <errs>
// <drop> <fifo> <frame> <compressed> <multicast> <tx bytes> <packets> <errs>
// <drop> ...".
std::vector<interface_usage> parse_net_dev(std::string_view text) {
  std::vector<interface_usage> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;  // a header line
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    if (name.empty() || name == "lo") continue;
    std::istringstream fields(line.substr(colon + 1));
    std::uint64_t v[12] = {};
    for (auto& x : v) fields >> x;
    if (!fields) continue;
    out.push_back({std::move(name), v[0], v[2], v[8], v[10], v[1], v[3], v[9], v[11]});
  }
  return out;
}

result<std::vector<interface_usage>> network_usage(const std::string& netns_path) {
  std::string text;
  auto entered = exec::sandbox::in_network_namespace(netns_path, [&] {
    std::ifstream f("/proc/thread-self/net/dev");
    std::stringstream s;
    s << f.rdbuf();
    text = s.str();
  });
  if (!entered) return tl::unexpected(entered.error());
  return parse_net_dev(text);
}

}  // namespace ringcri::cri::stats
