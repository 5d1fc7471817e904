#pragma once
// The container's seccomp profile, from the security context as
// containerd reads it:
//   seccomp { profile_type: RuntimeDefault }  the default profile below
//   seccomp { profile_type: Unconfined }      none
//   seccomp { profile_type: Localhost, localhost_ref: "/abs/path.json" }
//                                             an OCI seccomp JSON file
// and, when `seccomp` is unset, the deprecated seccomp_profile_path
// ("runtime/default", "docker/default", "unconfined", "localhost/<path>",
// "" = unconfined). A privileged container runs unconfined.
//
// The default profile denies (EPERM) every system call but those the
// common default profiles (Docker's, containerd's) allow: the everyday
// set, the ones a capability in the bounding set unlocks (mount, unshare,
// setns with CAP_SYS_ADMIN; ptrace with CAP_SYS_PTRACE; ...), and clone
// without namespace flags unless CAP_SYS_ADMIN.

#include <optional>
#include <string>
#include <string_view>

#include "api.pb.h"
#include "base/error.hpp"
#include "exec/spec.hpp"

namespace ringcri::cri::spec {

// The default profile for a process with these bounding capabilities.
exec::seccomp_spec runtime_default_profile(const std::vector<std::string>& bounding);

// Reads an OCI seccomp profile (defaultAction, defaultErrnoRet, syscalls
// with names, action, errnoRet, args). INVALID_ARGUMENT naming the file
// when it is missing, does not parse, or uses what we do not know.
result<exec::seccomp_spec> load_seccomp_profile(const std::string& path);

// The profile for a container; nullopt: unconfined. `unset_profile` is for
// a request that names none: its runtime handler's seccomp_profile ("",
// "unconfined" or "runtime/default"; config.hpp).
result<std::optional<exec::seccomp_spec>> container_seccomp(
    const runtime::v1::LinuxContainerSecurityContext& sc, const std::vector<std::string>& bounding,
    std::string_view unset_profile = {});

}  // namespace ringcri::cri::spec
