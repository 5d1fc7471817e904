#pragma once
// The last steps before execve, shared by a container's process and a
// command exec'd in one: what the parent prepares (capability masks, the
// compiled seccomp filter) and what the child does with it, in runc's order.

#include <optional>
#include <string>

#include "base/error.hpp"
#include "exec/spawn/capabilities.hpp"
#include "exec/spawn/seccomp.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec::spawn_detail {

struct prepared_process {
  capability_masks caps;
  std::optional<bpf_program> seccomp;
};

// In the parent, before clone3: parses capabilities, compiles seccomp.
result<prepared_process> prepare_process(const process_spec& process);

// In the child: a new session with stdin as its controlling terminal when
// process.terminal; seccomp first when it may not rely on no_new_privs (it
// needs CAP_SYS_ADMIN then); bounding set; user with caps kept; caps;
// no_new_privs; seccomp last when no_new_privs allows it; every fd >= 3
// close-on-exec (report_fd included, so its EOF tells the parent execve
// worked); execve. Any failure goes to report_fd.
[[noreturn]] void exec_process(const process_spec& process, const prepared_process& prepared,
                               const std::string& executable, int report_fd);

}  // namespace ringcri::exec::spawn_detail
