#pragma once
// A pod's user namespace from NamespaceOption.userns_options, with the
// refusals the CRI specifies (and containerd 2.x makes):
//
// - absent: the host's user namespace (a kubelet without the feature, or a
//   record older than it);
// - NODE: the host's; mappings with it are refused;
// - POD: a user namespace of the pod with exactly one uid and one gid
//   mapping, each mapping container id 0 and of non-zero length, neither
//   wrapping past the last id; the pod's network, pid and IPC namespaces
//   must then be its own (kubelet forbids hostNetwork, hostPID and hostIPC
//   with hostUsers: false: a namespace of the host would be owned by the
//   host's user namespace, beyond the pod's reach);
// - CONTAINER, TARGET: refused.
//
// Every refusal is INVALID_ARGUMENT naming the field and the value.

#include <optional>
#include <vector>

#include "api.pb.h"
#include "base/error.hpp"
#include "base/sys/user_namespace.hpp"

namespace ringcri::cri::spec {

struct pod_user_namespace {
  std::vector<sys::id_mapping> uids;
  std::vector<sys::id_mapping> gids;
};

// std::nullopt: the host's user namespace.
result<std::optional<pod_user_namespace>> user_namespace_of(
    const runtime::v1::NamespaceOption& options);

// A container's options must ask for its pod's user namespace: the same
// mode and maps, or nothing (it then gets the pod's).
result<void> check_container_user_namespace(const runtime::v1::NamespaceOption& container,
                                            const runtime::v1::NamespaceOption& pod);

}  // namespace ringcri::cri::spec
