#pragma once
// ContainerStats and PodSandboxStats as the CRI reports them: CPU and
// memory from the cgroup (cpu usage in ns, memory working set = usage less
// inactive file pages, as the kubelet's eviction reads it), the container's
// writable layer, and the pod's network counters and process count. Every
// value is read at the call; timestamps are unix ns.
//
// read_pod is the reading under both PodSandboxStats and
// ListPodSandboxMetrics: a pod's cgroup and network, and its containers'
// cgroups, in one trip to the blocking pool.

#include <optional>
#include <vector>

#include "api.pb.h"
#include "cri/context.hpp"
#include "cri/stats/network_usage.hpp"
#include "exec/cgroups/stats.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri::stats {

// NOT_FOUND when the container's cgroup is gone.
reactor::task<result<runtime::v1::ContainerStats>> container_stats_of(context& ctx,
                                                                      const records::container& c);

reactor::task<result<runtime::v1::PodSandboxStats>> pod_stats_of(context& ctx, const records::pod_sandbox& pod);

struct pod_reading {
  exec::cgroups::cgroup_stats cgroup;
  bool has_network = false;  // the pod has a network namespace of its own
  std::vector<interface_usage> interfaces;
  // One per container asked for, in its order: NOT_FOUND for one whose
  // cgroup is gone (it exited and was removed meanwhile).
  std::vector<result<exec::cgroups::cgroup_stats>> containers;
  std::int64_t at_ns = 0;  // unix ns, when the reading ended
};

// NOT_FOUND when the pod's cgroup is gone; an error when its network
// namespace cannot be read.
reactor::task<result<pod_reading>> read_pod(context& ctx, const records::pod_sandbox& pod,
                                            const std::vector<records::container>& containers,
                                            exec::cgroups::stats_detail depth);

}  // namespace ringcri::cri::stats
