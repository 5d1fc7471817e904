// User, capabilities, no_new_privs, seccomp and execve.

#include "exec/spawn/process_exec.hpp"

#include <fmt/format.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <vector>

#include "exec/spawn/child_entry.hpp"
#include "exec/spawn/report.hpp"
#include "exec/spawn/user.hpp"

namespace ringcri::exec::spawn_detail {

result<prepared_process> prepare_process(const process_spec& process) {
  prepared_process p;
  p.caps = parse_capabilities(process.capabilities);
  if (process.seccomp) {
    auto program = compile_seccomp(*process.seccomp);
    if (!program) return tl::unexpected(program.error());
    p.seccomp = std::move(*program);
  }
  return p;
}

static result<void> finish_process(const process_spec& process, const prepared_process& prepared) {
  // Without no_new_privs, loading a filter is a privileged operation: do it
  // while CAP_SYS_ADMIN is still held, as runc does.
  if (prepared.seccomp && !process.no_new_privileges)
    if (auto r = load_seccomp(*prepared.seccomp); !r) return r;
  if (auto r = drop_bounding_set(prepared.caps); !r) return r;
  if (auto r = keep_capabilities(true); !r) return r;
  if (auto r = set_user(process.user); !r) return r;
  if (auto r = keep_capabilities(false); !r) return r;
  if (auto r = apply_capabilities(prepared.caps); !r) return r;
  if (process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return fail_errno(errno, "prctl PR_SET_NO_NEW_PRIVS");
  if (prepared.seccomp && process.no_new_privileges)
    if (auto r = load_seccomp(*prepared.seccomp); !r) return r;
  return {};
}

void exec_process(const process_spec& process, const prepared_process& prepared,
                  const std::string& executable, int report_fd) {
  std::vector<char*> argv;
  for (const std::string& a : process.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : process.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  // Before the user and seccomp change: nothing the process asks for may
  // refuse the session its terminal needs.
  if (process.terminal)
    if (auto r = take_controlling_terminal(); !r) report_failure(report_fd, r.error());
  if (auto r = finish_process(process, prepared); !r) report_failure(report_fd, r.error());
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    report_failure(report_fd, error::from_errno(errno, "close_range CLOSE_RANGE_CLOEXEC"));
  ::execve(executable.c_str(), argv.data(), envp.data());
  report_failure(report_fd, error::from_errno(errno, fmt::format("exec \"{}\"", executable)));
}

}  // namespace ringcri::exec::spawn_detail
