#pragma once
// Finding args[0] inside the container, as execvp would, but early: a
// missing command fails at create time rather than at start.

#include <string>

#include "base/error.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec::spawn_detail {

inline constexpr const char* default_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The path to exec for process.args[0], looked up in PATH from
// process.env (or default_path) when it has no '/'. Call with the
// container's root and cwd in place.
result<std::string> find_executable(const process_spec& process);

}  // namespace ringcri::exec::spawn_detail
