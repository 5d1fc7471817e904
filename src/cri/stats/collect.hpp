#pragma once
// ContainerStats and PodSandboxStats as the CRI reports them: CPU and
// memory from the cgroup (cpu usage in ns, memory working set = usage less
// inactive file pages, as the kubelet's eviction reads it), the container's
// writable layer, and the pod's network counters and process count. Every
// value is read at the call; timestamps are unix ns.

#include "api.pb.h"
#include "cri/context.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri::stats {

// NOT_FOUND when the container's cgroup is gone.
reactor::task<result<runtime::v1::ContainerStats>> container_stats_of(context& ctx,
                                                                      const records::container& c);

reactor::task<result<runtime::v1::PodSandboxStats>> pod_stats_of(context& ctx, const records::pod_sandbox& pod);

}  // namespace ringcri::cri::stats
