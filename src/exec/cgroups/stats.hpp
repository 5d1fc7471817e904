#pragma once
// What a cgroup uses, for ContainerStats and PodSandboxStats: cpu time,
// memory (usage, working set, rss, faults), its memory limit and its
// process count, read by hierarchy::stats from whichever hierarchy has
// each controller (cpuacct or the unified cpu.stat; memory; pids).
//
// v1: cpuacct.usage, memory.usage_in_bytes, memory.stat's hierarchical
// total_* keys, memory.limit_in_bytes, pids.current.
// v2: cpu.stat usage_usec, memory.current, memory.stat, memory.max,
// pids.current.
//
// The working set is usage minus inactive file pages, floored at 0, as
// cAdvisor and the kubelet compute it (evictions are decided on it).

#include <cstdint>

namespace ringcri::exec::cgroups {

struct cgroup_stats {
  std::uint64_t cpu_usage_ns = 0;        // cumulative cpu time of every process, ever
  std::uint64_t memory_usage = 0;        // bytes charged, page cache included
  std::uint64_t memory_working_set = 0;  // usage - inactive_file, floored at 0
  std::uint64_t memory_rss = 0;          // anonymous memory (v1 total_rss, v2 anon)
  std::uint64_t memory_limit = 0;        // bytes; 0 unlimited
  std::uint64_t page_faults = 0;
  std::uint64_t major_page_faults = 0;
  std::uint64_t pids = 0;   // processes and threads now (pids.current); 0 without pids
  bool has_cpu = false;     // the cpu fields were read
  bool has_memory = false;  // the memory fields were read
};

}  // namespace ringcri::exec::cgroups
