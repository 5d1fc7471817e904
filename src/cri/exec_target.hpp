#pragma once
// What ExecSync and the streaming Exec share: the running container a
// command is for, and the exec spec that runs it there (the container's
// namespaces, cgroup, rootfs, user and environment).

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/error.hpp"
#include "cri/context.hpp"
#include "exec/spec.hpp"

namespace ringcri::cri {

struct exec_target {
  std::string container_id;  // the full id
  pid_t pid = 0;             // the container's process (host pid)
  exec::exec_spec spec;
};

// NOT_FOUND for an unknown container, FAILED_PRECONDITION when it is not
// running, INVALID_ARGUMENT for an empty command.
result<exec_target> exec_target_for(context& ctx, const std::string& container_id,
                                    const std::vector<std::string>& cmd);

// NOT_FOUND / FAILED_PRECONDITION as above; the full id of a running container.
result<std::string> running_container(context& ctx, const std::string& container_id);

}  // namespace ringcri::cri
