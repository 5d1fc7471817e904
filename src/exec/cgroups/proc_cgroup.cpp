// Which cgroups a process is in (see proc_cgroup.hpp).

#include "exec/cgroups/proc_cgroup.hpp"

#include <algorithm>
#include <vector>

#include "exec/cgroups/cgroup_files.hpp"

namespace ringcri::exec::cgroups {

namespace {
// "cpu,cpuacct" or "none,name=systemd" as a sorted set, "none" left out.
std::vector<std::string_view> controller_set(std::string_view list) {
  std::vector<std::string_view> out;
  while (true) {
    std::size_t comma = list.find(',');
    std::string_view one = list.substr(0, comma);
    if (!one.empty() && one != "none") out.push_back(one);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

std::string v1_cgroup_in(std::string_view text, std::string_view controllers) {
  const auto wanted = controller_set(controllers);
  if (wanted.empty()) return {};
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    std::size_t first = line.find(':');
    std::size_t second = first == line.npos ? line.npos : line.find(':', first + 1);
    if (second == line.npos) continue;
    if (controller_set(line.substr(first + 1, second - first - 1)) == wanted)
      return std::string(line.substr(second + 1));
  }
  return {};
}

result<std::string> read_own_cgroups() { return detail::read_control("/proc/self/cgroup"); }

}  // namespace ringcri::exec::cgroups
