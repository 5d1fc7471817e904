#pragma once
// Where a pod's and a container's cgroups go, for the kubelet's cgroup
// driver (config key cgroup_driver):
//
//   cgroupfs  pod: cgroup_parent ("/kubepods/burstable/pod<uid>"), or
//                  /ringcri/pod-<id> when none is given
//             container: <pod>/<id>
//   systemd   pod: cgroup_parent as a slice ("kubepods-burstable-pod<uid>.slice"
//                  is /kubepods.slice/kubepods-burstable.slice/...), or
//                  /ringcri.slice/ringcri-pod<id>.slice
//             container: <pod>/ringcri-<id>.scope
//
// A cgroup_parent that is not valid for the driver is INVALID_ARGUMENT
// naming it.

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace ringcri::cri {

// The pod cgroup ringcri makes when the pod names no parent lives under
// this one (removed when its last pod goes).
std::string default_pod_cgroup_root(std::string_view driver);

result<std::string> pod_cgroup_of(std::string_view driver, std::string_view cgroup_parent,
                                  std::string_view pod_id);

result<std::string> container_cgroup_of(std::string_view driver, std::string_view pod_cgroup,
                                        std::string_view container_id);

}  // namespace ringcri::cri
