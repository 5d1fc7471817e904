#pragma once
// What /proc says of one process: the readings behind the process_*
// metrics Prometheus' client libraries export, for the daemon and for
// its keeper.

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace ringcri::metrics {

struct process_reading {
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;
  double cpu_seconds = 0;          // user + system
  double start_time_seconds = 0;   // since the epoch
};

// Empty when the process is gone or /proc cannot be read.
std::optional<process_reading> read_process(pid_t pid);

}  // namespace ringcri::metrics
