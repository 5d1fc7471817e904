#include "process_meter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iterator>
#include <sstream>
#include <vector>

namespace ringcri::bench {

namespace {

// A /proc file of a process that may exit while it is read (then read(2)
// fails with ESRCH, which an ifstream turns into an exception): whatever
// was read, possibly nothing.
std::string read_file(const std::filesystem::path& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

long vm_rss_kib(const std::filesystem::path& proc) {
  std::istringstream in(read_file(proc / "status"));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;  // a zombie, or a kernel thread
}

}  // namespace

std::vector<pid_t> processes_with(const std::string& needle) {
  std::vector<pid_t> out;
  const pid_t self = ::getpid();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    if (pid != self && read_file(entry.path() / "cmdline").find(needle) != std::string::npos)
      out.push_back(pid);
  }
  return out;
}

process_meter::process_meter(std::string cmdline_match) : match_(std::move(cmdline_match)) {}

process_meter::~process_meter() { stop_sampling(); }

process_usage process_meter::sample(std::map<process_key, double>* cpu_seen) {
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  process_usage usage;
  if (match_.empty()) return usage;  // no processes named: nothing measured
  for (pid_t pid : processes_with(match_)) {
    const auto proc = std::filesystem::path("/proc") / std::to_string(pid);
    try {
      // Fields after the command name, which may hold spaces and parentheses.
      std::string stat = read_file(proc / "stat");
      auto close = stat.rfind(')');
      if (close == std::string::npos || close + 2 > stat.size()) continue;
      std::istringstream fields(stat.substr(close + 2));
      std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
      if (f.size() < 20) continue;
      // f[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17, starttime 22.
      double cpu =
          (std::stod(f[11]) + std::stod(f[12]) + std::stod(f[13]) + std::stod(f[14])) / ticks;
      usage.rss_kib += vm_rss_kib(proc);
      usage.cpu_s += cpu;
      ++usage.processes;
      if (cpu_seen) (*cpu_seen)[{pid, std::stoull(f[19])}] = cpu;
    } catch (const std::exception&) {
      // It exited half-way through being read: it no longer counts.
    }
  }
  return usage;
}

process_usage process_meter::now() { return sample(nullptr); }

void process_meter::start_sampling() {
  stop_sampling();
  {
    std::lock_guard lock(mutex_);
    cpu_at_start_.clear();
    cpu_seen_.clear();
    peak_ = sample(&cpu_at_start_);
    cpu_seen_ = cpu_at_start_;
  }
  sampling_ = true;
  sampler_ = std::thread([this] {
    while (sampling_) {
      std::map<process_key, double> seen;
      auto usage = sample(&seen);
      {
        std::lock_guard lock(mutex_);
        for (const auto& [key, cpu] : seen) cpu_seen_[key] = cpu;
        if (usage.rss_kib > peak_.rss_kib) peak_ = usage;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

void process_meter::stop_sampling() {
  if (!sampler_.joinable()) return;
  sampling_ = false;
  sampler_.join();
  std::map<process_key, double> seen;
  sample(&seen);
  std::lock_guard lock(mutex_);
  for (const auto& [key, cpu] : seen) cpu_seen_[key] = cpu;
}

process_usage process_meter::peak() const {
  std::lock_guard lock(mutex_);
  return peak_;
}

double process_meter::cpu_since_start() const {
  std::lock_guard lock(mutex_);
  double total = 0;
  for (const auto& [key, cpu] : cpu_seen_) {
    auto before = cpu_at_start_.find(key);
    total += cpu - (before == cpu_at_start_.end() ? 0.0 : before->second);
  }
  return total;
}

}  // namespace ringcri::bench
