#pragma once
// The container's namespaces from its security context's namespace options
// and what the pod holds:
//
// - mount: new, always; cgroup: new, always.
// - network, ipc, uts: the pod's held ones; the host's (absent from the
//   list) when the option says NODE or the pod holds none. UTS follows the
//   network option, as CRI has no option of its own for it.
// - pid: CONTAINER a new one; POD the pod init's (an error when the pod
//   shares none); NODE the host's; TARGET the target container's, which
//   the caller resolves from target_id.
//
// No new UTS namespace is ever made for a container: its hostname is the
// pod's, carried by the pod's namespace, so container_spec.hostname stays
// empty.

#include <string>
#include <vector>

#include "api.pb.h"
#include "base/error.hpp"
#include "cri/spec/container_spec.hpp"
#include "exec/spec.hpp"

namespace ringcri::cri::spec {

result<std::vector<exec::namespace_spec>> container_namespaces(
    const runtime::v1::NamespaceOption& options, const pod_paths& pod,
    const std::string& target_pid_ns);

}  // namespace ringcri::cri::spec
