#pragma once
// A container's cgroup limits from the CRI's LinuxContainerResources, as
// CreateContainer and UpdateContainerResources apply them. A zero field is
// unset (the cgroup keeps what it has); -1 means unlimited where the
// kernel has such a value (cpu quota, swap). The CRI has no pids limit:
// the daemon's pids_limit, when set, goes to every container.

#include <cstdint>

#include "api.pb.h"
#include "base/error.hpp"
#include "exec/cgroups/resources.hpp"

namespace ringcri::cri::spec {

// INVALID_ARGUMENT naming the field for values no kernel takes (negative
// sizes, a period outside 1 ms..1 s, a hugepage size that is not like
// "2MB").
result<exec::cgroups::resources> container_resources(const runtime::v1::LinuxContainerResources& r,
                                                     std::int64_t pids_limit);

// `update` over `current`: the fields `update` sets replace those of
// `current`, the rest stay. What the container's record keeps after an
// UpdateContainerResources, and what ContainerStatus reports.
runtime::v1::LinuxContainerResources merge_resources(const runtime::v1::LinuxContainerResources& current,
                                                     const runtime::v1::LinuxContainerResources& update);

}  // namespace ringcri::cri::spec
