#pragma once
// ExecSync's and Exec's command inside a running container: the
// container's process (user, env, cwd, capabilities, ...) with its argv
// replaced, in the container's cgroups.

#include <string>
#include <vector>

#include "base/error.hpp"
#include "exec/spec.hpp"

namespace ringcri::cri::spec {

// INVALID_ARGUMENT when `cmd` is empty. `terminal` starts false: whether an
// exec gets a tty is its own request's choice, not the container's.
result<exec::exec_spec> build_exec_spec(const exec::container_spec& container,
                                        const std::vector<std::string>& cmd);

}  // namespace ringcri::cri::spec
