#pragma once
// The per-version writers behind hierarchy::apply (resources.cpp), one per
// controller. Each takes the cgroup's directory in the hierarchy holding
// that controller and writes only what `wanted` sets; apply has checked
// the values already. Internal to src/exec/cgroups/.

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "exec/cgroups/hierarchy.hpp"
#include "exec/cgroups/resources.hpp"

namespace ringcri::exec::cgroups::detail {

// v1 (v1_resources.cpp).
result<void> v1_write_cpu(const std::string& dir, const resources& wanted);
result<void> v1_write_memory(const std::string& dir, const resources& wanted);
// Makes the cpuset cgroup of `path` in `mount` when missing and moves the
// processes of `path` (in any hierarchy) into it once its cpus and mems
// are written.
result<void> v1_write_cpuset(const hierarchy& h, const cgroup_mount& mount, std::string_view path,
                             const resources& wanted);

// v2 (v2_resources.cpp).
result<void> v2_write_cpu(const std::string& dir, const resources& wanted);
result<void> v2_write_memory(const std::string& dir, const resources& wanted);
result<void> v2_write_cpuset(const std::string& dir, const resources& wanted);
result<void> v2_write_unified(const std::string& dir, const resources& wanted);

// Both (resources.cpp): pids.max, and hugetlb.<size>.limit_in_bytes (v1)
// or hugetlb.<size>.max (v2).
result<void> write_pids(const std::string& dir, const resources& wanted);
result<void> write_hugetlb(const std::string& dir, bool v2, const resources& wanted);

}  // namespace ringcri::exec::cgroups::detail
