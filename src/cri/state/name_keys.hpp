#pragma once
// The names pods and containers are made unique by, built exactly as
// containerd builds them, so kubelet sees the same ALREADY_EXISTS cases:
//   pod:       <name>_<namespace>_<uid>_<attempt>
//   container: <container name>_<pod name>_<pod namespace>_<pod uid>_<attempt>
// Kubernetes names cannot contain '_', so distinct metadata gives distinct keys.

#include <string>

#include "api.pb.h"

namespace ringcri::cri::state {

std::string pod_name_key(const runtime::v1::PodSandboxMetadata& pod);

std::string container_name_key(const runtime::v1::ContainerMetadata& container,
                               const runtime::v1::PodSandboxMetadata& pod);

}  // namespace ringcri::cri::state
