#pragma once
// The text of an OCI seccomp profile (a Localhost profile's JSON file) as
// an exec::seccomp_spec: defaultAction, defaultErrnoRet, and syscalls
// with names (or name), action, errnoRet and args. Kept apart from
// seccomp.hpp so it is parsed with no CRI types in sight.

#include <string_view>

#include "base/error.hpp"
#include "exec/spec.hpp"

namespace ringcri::cri::spec {

// INVALID_ARGUMENT saying what is wrong ("is not JSON", "is not an OCI
// seccomp profile: ..."); the caller names the file.
result<exec::seccomp_spec> parse_seccomp_profile(std::string_view text);

}  // namespace ringcri::cri::spec
