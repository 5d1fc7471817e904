#pragma once
// The container's capabilities: Docker's default set in the bounding,
// effective and permitted sets (inheritable and ambient empty, as
// containerd leaves them), with the security context's add and drop lists
// applied as containerd applies them: "ALL" in add first (every capability
// the kernel knows), then "ALL" in drop (none), then each named add, then
// each named drop. Names are case-insensitive, with or without "CAP_"; an
// unknown name is INVALID_ARGUMENT naming it. A privileged container gets
// every capability the kernel knows.

#include <string>
#include <string_view>
#include <vector>

#include "api.pb.h"
#include "base/error.hpp"
#include "exec/spec.hpp"

namespace ringcri::cri::spec {

// Docker's and containerd's default set, in their order.
const std::vector<std::string>& default_capabilities();

// Every capability this kernel knows (up to /proc/sys/kernel/cap_last_cap)
// that the runtime's own bounding set holds, in number order: what a
// privileged container or "ALL" gets.
const std::vector<std::string>& all_capabilities();

// "chown", "CAP_CHOWN", "Cap_Chown" -> "CAP_CHOWN"; unknown -> INVALID_ARGUMENT.
result<std::string> capability_name(std::string_view name);

result<exec::capabilities_spec> container_capabilities(
    const runtime::v1::LinuxContainerSecurityContext& sc);

}  // namespace ringcri::cri::spec
