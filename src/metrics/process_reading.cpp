#include "metrics/process_reading.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace ringcri::metrics {

namespace {

std::optional<std::uint64_t> count_fds(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return std::nullopt;
  std::uint64_t n = 0;
  while (auto* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return pid == ::getpid() && n > 0 ? n - 1 : n;  // less the one opendir holds
}

// The node's boot time, seconds since the epoch (btime in /proc/stat).
double boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

std::optional<process_reading> read_process(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // The command name may hold spaces and parentheses: fields start after
  // the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  // Fields 3.. of proc(5): state is the first here; utime is 14, stime
  // 15, starttime 22, vsize 23, rss 24.
  std::string v[22];
  for (auto& f : v)
    if (!(fields >> f)) return std::nullopt;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  process_reading r;
  try {
    r.cpu_seconds = (std::stod(v[11]) + std::stod(v[12])) / ticks;
    r.start_time_seconds = boot_time() + std::stod(v[19]) / ticks;
    r.virtual_bytes = std::stoull(v[20]);
    r.resident_bytes = std::stoull(v[21]) * page;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (auto fds = count_fds(pid)) r.open_fds = *fds;
  rlimit lim{};
  if (::prlimit(pid, RLIMIT_NOFILE, nullptr, &lim) == 0) r.max_fds = lim.rlim_cur;
  return r;
}

}  // namespace ringcri::metrics
