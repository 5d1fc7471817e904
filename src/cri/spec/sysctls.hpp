#pragma once
// The pod's sysctls, checked before anything is made: only sysctls that
// belong to a namespace the pod has of its own may be set, since the
// container writes them under its /proc/sys; any other would change the
// node. Names may use dots or slashes (net/ipv4/ip_forward).
//   IPC namespace: kernel.msgmax, msgmnb, msgmni, sem, shmall, shmmax,
//                  shmmni, shm_rmid_forced; fs.mqueue.*
//   UTS namespace: kernel.domainname, kernel.hostname
//   network namespace: net.*
// Anything else, or a namespaced one of a namespace the pod shares with
// the node, is INVALID_ARGUMENT naming it.

#include <string>
#include <utility>
#include <vector>

#include "api.pb.h"
#include "base/error.hpp"

namespace ringcri::cri::spec {

result<std::vector<std::pair<std::string, std::string>>> pod_sysctls(const runtime::v1::PodSandboxConfig& pod);

}  // namespace ringcri::cri::spec
