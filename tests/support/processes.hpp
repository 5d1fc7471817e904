#pragma once
// The node's processes as a test sees them through /proc.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace ringcri::testing {

// The pids whose command line (its words joined by spaces) starts with
// `needle`: "sleep 31337" finds that sleep, not the shell that runs it. A
// zombie has no command line: it is not listed.
inline std::vector<std::string> processes_with(const std::string& needle) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), {});
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.rfind(needle, 0) == 0) out.push_back(name);
  }
  return out;
}

}  // namespace ringcri::testing
