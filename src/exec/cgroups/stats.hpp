#pragma once
// What a cgroup uses, for ContainerStats, PodSandboxStats and the CRI's
// metrics: cpu time, memory (usage, working set, rss, cache, faults), its
// memory limit and its task count, read by hierarchy::stats from whichever
// hierarchy has each controller (cpuacct or the unified cpu.stat; cpu;
// memory; pids).
//
// v1: cpuacct.usage, memory.usage_in_bytes, memory.stat's hierarchical
// total_* keys (and the cgroup's own pgfault, pgmajfault),
// memory.limit_in_bytes, pids.current.
// v2: cpu.stat usage_usec, memory.current, memory.stat, memory.max,
// pids.current.
//
// stats_detail::full (ListPodSandboxMetrics) reads more files, each only
// where the kernel has it: v1 cpuacct.stat, the cpu hierarchy's cpu.stat,
// memory.max_usage_in_bytes, memory.failcnt, memory.oom_control,
// pids.max; v2 memory.peak, memory.swap.current, memory.events, pids.max
// (v2's cpu.stat, read anyway, gives the cpu split and throttling).
//
// The working set is usage minus inactive file pages, floored at 0, as
// cAdvisor and the kubelet compute it (evictions are decided on it).

#include <cstdint>
#include <optional>

namespace ringcri::exec::cgroups {

enum class stats_detail {
  usage,  // what the stats RPCs report: the fewest files
  full,   // also the split, throttling, peaks, failures and limits below
};

struct cgroup_stats {
  std::uint64_t cpu_usage_ns = 0;        // cumulative cpu time of every process, ever
  std::uint64_t memory_usage = 0;        // bytes charged, page cache included
  std::uint64_t memory_working_set = 0;  // usage - inactive_file, floored at 0
  std::uint64_t memory_rss = 0;          // anonymous memory (v1 total_rss, v2 anon)
  std::uint64_t memory_cache = 0;        // page cache (v1 total_cache, v2 file)
  std::uint64_t memory_mapped_file = 0;  // mapped files (v1 total_mapped_file, v2 file_mapped)
  std::uint64_t memory_limit = 0;        // bytes; 0 unlimited
  std::uint64_t page_faults = 0;         // the cgroup and its descendants
  std::uint64_t major_page_faults = 0;
  // The cgroup's own faults, without its descendants' (v1 pgfault,
  // pgmajfault); v2 keeps no such count and these equal the above, as
  // cAdvisor reports them.
  std::uint64_t own_page_faults = 0;
  std::uint64_t own_major_page_faults = 0;
  std::uint64_t pids = 0;   // processes and threads now (pids.current); 0 without pids
  bool has_cpu = false;     // the cpu fields were read
  bool has_memory = false;  // the memory fields were read
  bool has_pids = false;    // pids was read

  // stats_detail::full only, each where its file is.
  struct cpu_split {
    std::uint64_t user_ns = 0;  // v1 cpuacct.stat counts USER_HZ ticks: 10 ms steps
    std::uint64_t system_ns = 0;
  };
  std::optional<cpu_split> cpu_time;
  struct cpu_throttling {
    std::uint64_t periods = 0;            // CFS enforcement periods elapsed
    std::uint64_t throttled_periods = 0;  // of which the cgroup hit its quota
    std::uint64_t throttled_ns = 0;
  };
  std::optional<cpu_throttling> throttling;  // the cpu controller's cpu.stat
  std::optional<std::uint64_t> memory_swap;       // v1 total_swap (swap accounting on), v2 memory.swap.current
  std::optional<std::uint64_t> memory_max_usage;  // v1 memory.max_usage_in_bytes, v2 memory.peak
  std::optional<std::uint64_t> memory_failcnt;    // v1 memory.failcnt; v2 has none
  std::optional<std::uint64_t> oom_kills;         // "oom_kill" of v1 memory.oom_control, v2 memory.events
  std::optional<std::uint64_t> pids_max;          // pids.max; 0 for "max"
};

}  // namespace ringcri::exec::cgroups
