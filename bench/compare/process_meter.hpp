#pragma once
// A runtime's own processes, read from /proc: the daemon and every helper
// (ringcri's keeper; containerd's shims), found by a string their command
// lines carry (the runtime's directory) and the container processes never
// do. Resident memory is the sum of VmRSS; CPU is user + system time of
// each process and of the children it has waited for (runc, CNI plugins).

#include <sys/types.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ringcri::bench {

// Pids of the processes (but this one) whose command line holds `needle`;
// a process exiting while it is looked at is left out.
std::vector<pid_t> processes_with(const std::string& needle);

struct process_usage {
  long rss_kib = 0;
  double cpu_s = 0;
  int processes = 0;
};

class process_meter {
 public:
  // An empty `cmdline_match` measures nothing (all figures 0).
  explicit process_meter(std::string cmdline_match);
  ~process_meter();
  process_meter(const process_meter&) = delete;
  process_meter& operator=(const process_meter&) = delete;

  // The runtime's processes now.
  process_usage now();

  // Samples every 50 ms until stop_sampling(): the sample with the highest
  // RSS, and the CPU used since start_sampling() (each process counted up
  // to the last time it was seen, so one that exits keeps its share).
  void start_sampling();
  void stop_sampling();
  process_usage peak() const;
  double cpu_since_start() const;

 private:
  // pid and start time: a pid reused by another process is another key.
  using process_key = std::pair<pid_t, unsigned long long>;
  process_usage sample(std::map<process_key, double>* cpu_seen);

  std::string match_;
  mutable std::mutex mutex_;
  std::map<process_key, double> cpu_at_start_, cpu_seen_;
  process_usage peak_;
  std::atomic<bool> sampling_{false};
  std::thread sampler_;
};

}  // namespace ringcri::bench
