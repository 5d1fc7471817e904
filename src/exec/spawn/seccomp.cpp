// Compiling a seccomp profile to BPF and loading it.

#include "exec/spawn/seccomp.hpp"

#include <fmt/format.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "base/unique_fd.hpp"

namespace ringcri::exec::spawn_detail {

namespace {
result<std::uint32_t> action_of(const std::string& name, std::uint32_t errno_ret) {
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret);
  return fail(error_kind::invalid_argument, fmt::format("seccomp: unknown action \"{}\"", name));
}

result<scmp_compare> compare_of(const std::string& op) {
  if (op == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (op == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (op == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (op == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (op == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (op == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (op == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return fail(error_kind::invalid_argument, fmt::format("seccomp: unknown argument operator \"{}\"", op));
}

struct ctx_release {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
}  // namespace

result<bpf_program> compile_seccomp(const seccomp_spec& spec) {
  auto default_action = action_of(spec.default_action, spec.default_errno_ret);
  if (!default_action) return tl::unexpected(default_action.error());
  std::unique_ptr<void, ctx_release> ctx(seccomp_init(*default_action));
  if (!ctx) return fail(error_kind::internal, "seccomp_init failed");

  for (const seccomp_rule& rule : spec.syscalls) {
    auto action = action_of(rule.action, rule.errno_ret);
    if (!action) return tl::unexpected(action.error());
    // libseccomp refuses a rule that repeats the default action.
    if (*action == *default_action) continue;
    std::vector<scmp_arg_cmp> conditions;
    for (const seccomp_arg& a : rule.args) {
      auto op = compare_of(a.op);
      if (!op) return tl::unexpected(op.error());
      if (a.index > 5) return fail(error_kind::invalid_argument, fmt::format("seccomp: argument index {} over 5", a.index));
      conditions.push_back(scmp_arg_cmp{a.index, *op, a.value, a.value_two});
    }
    for (const std::string& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // not a system call of this architecture
      int rc = seccomp_rule_add_array(ctx.get(), *action, nr, static_cast<unsigned>(conditions.size()),
                                      conditions.data());
      if (rc < 0) return fail_errno(-rc, fmt::format("seccomp: rule for \"{}\"", name));
    }
  }

  // seccomp_export_bpf_mem is newer than the libseccomp we build with:
  // export to a memfd and read it back.
  unique_fd mem(::memfd_create("seccomp-bpf", MFD_CLOEXEC));
  if (!mem) return fail_errno(errno, "seccomp: memfd_create");
  if (int rc = seccomp_export_bpf(ctx.get(), mem.get()); rc < 0)
    return fail_errno(-rc, "seccomp: export BPF");
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size < 0 || size % sizeof(sock_filter) != 0)
    return fail(error_kind::internal, "seccomp: exported BPF has an odd size");
  bpf_program program(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.get(), program.data(), static_cast<size_t>(size), 0) != size)
    return fail_errno(errno, "seccomp: read exported BPF");
  return program;
}

result<void> load_seccomp(const bpf_program& program) {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size());
  prog.filter = const_cast<sock_filter*>(program.data());
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
    return fail_errno(errno, "load seccomp filter");
  return {};
}

}  // namespace ringcri::exec::spawn_detail
