#pragma once
// The resource limits of a pod's or container's cgroup, as the CRI gives
// them (LinuxContainerResources) in cgroup v1 terms, the way runc and
// containerd take them. hierarchy::apply writes the fields that are set,
// each to the hierarchy that has its controller: the v1 one that lists
// it, else the unified one if it lists it in cgroup.controllers (on a
// hybrid node hugetlb may live in v2 while memory lives in v1).
// hierarchy::read_resources reads back what is set.
//
// v1 files: cpu.shares, cpu.cfs_quota_us, cpu.cfs_period_us, cpuset.cpus,
// cpuset.mems, memory.limit_in_bytes, memory.memsw.limit_in_bytes,
// pids.max, hugetlb.<size>.limit_in_bytes.
// v2 files: cpu.weight (from shares), cpu.max, cpuset.cpus, cpuset.mems,
// memory.max, memory.swap.max (swap alone, not memory+swap), pids.max,
// hugetlb.<size>.max, and the raw `unified` files.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ringcri::exec::cgroups {

struct hugepage_limit {
  std::string page_size;    // "2MB", "1GB", as the CRI and the kernel's file names spell them
  std::uint64_t limit = 0;  // bytes

  bool operator==(const hugepage_limit&) const = default;
};

struct resources {
  std::uint64_t cpu_shares = 0;        // 0: unset; v2 turns it into cpu.weight
  std::int64_t cpu_quota = 0;          // µs per period; 0 unset, -1 unlimited
  std::uint64_t cpu_period = 0;        // µs; 0 unset
  std::string cpuset_cpus;             // "0-3,6"; empty: unset
  std::string cpuset_mems;             // empty: unset
  std::int64_t memory_limit = 0;       // bytes; 0 unset, -1 unlimited
  std::int64_t memory_swap_limit = 0;  // bytes of memory+swap (CRI, runc); 0 unset, -1 unlimited
  std::int64_t pids_limit = 0;         // 0 unset, -1 unlimited
  std::vector<hugepage_limit> hugepage_limits;
  std::map<std::string, std::string> unified;  // raw v2 files ("memory.high" -> "..."), v2 only

  bool operator==(const resources&) const = default;
};

// v2's cpu.weight for v1 cpu.shares, as runc and the kubelet convert it:
// shares clamped to [2, 262144] map linearly onto weights [1, 10000]
// (1024 -> 39).
std::uint64_t cpu_weight_of_shares(std::uint64_t shares);
// The smallest shares that map back to `weight` (39 -> 999), so that
// shares read back and applied again give the same weight.
std::uint64_t cpu_shares_of_weight(std::uint64_t weight);

}  // namespace ringcri::exec::cgroups
