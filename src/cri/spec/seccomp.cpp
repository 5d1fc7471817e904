#include "cri/spec/seccomp.hpp"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "cri/spec/seccomp_profile.hpp"

namespace ringcri::cri::spec {

namespace {

// Allowed for everyone: the common default profiles' everyday set.
constexpr const char* everyday[] = {
    "accept", "accept4", "access", "alarm", "bind", "brk", "capget", "capset", "chdir", "chmod", "chown",
    "chown32", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2",
    "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
    "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
    "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
    "fchmodat", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
    "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
    "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu",
    "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
    "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
    "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
    "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
    "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat",
    "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
    "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat",
    "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
    "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
    "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll",
    "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
    "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv",
    "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
    "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
    "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid",
    "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
    "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
    "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
    "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
    "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socket", "socketcall", "socketpair",
    "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
    "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
    // x86: thread-local storage set-up.
    "arch_prctl", "modify_ldt",
};

struct unlocked_by {
  const char* capability;
  std::vector<std::string> syscalls;
};

// What a capability in the bounding set adds.
const std::vector<unlocked_by>& unlocks() {
  static const std::vector<unlocked_by> table = {
      {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
      {"CAP_SYS_ADMIN",
       {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
        "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
        "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare"}},
      {"CAP_SYS_BOOT", {"reboot"}},
      {"CAP_SYS_CHROOT", {"chroot"}},
      {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
      {"CAP_SYS_PACCT", {"acct"}},
      {"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"}},
      {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
      {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64", "adjtimex", "clock_adjtime",
                        "clock_adjtime64"}},
      {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
      {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy"}},
      {"CAP_SYSLOG", {"syslog"}},
  };
  return table;
}

bool has(const std::vector<std::string>& caps, const char* cap) {
  return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

exec::seccomp_rule allow(std::vector<std::string> names, std::vector<exec::seccomp_arg> args = {}) {
  exec::seccomp_rule r;
  r.names = std::move(names);
  r.action = "SCMP_ACT_ALLOW";
  r.args = std::move(args);
  return r;
}

exec::seccomp_arg arg(unsigned index, std::uint64_t value, std::uint64_t value_two, const char* op) {
  exec::seccomp_arg a;
  a.index = index;
  a.value = value;
  a.value_two = value_two;
  a.op = op;
  return a;
}

}  // namespace

exec::seccomp_spec runtime_default_profile(const std::vector<std::string>& bounding) {
  exec::seccomp_spec s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = EPERM;
  s.syscalls.push_back(allow({std::begin(everyday), std::end(everyday)}));
  // personality: only the ordinary domains (and the query).
  for (std::uint64_t persona : {0x0ull, 0x8ull, 0x20000ull, 0x20008ull, 0xffffffffull})
    s.syscalls.push_back(allow({"personality"}, {arg(0, persona, 0, "SCMP_CMP_EQ")}));
  for (const auto& u : unlocks())
    if (has(bounding, u.capability)) s.syscalls.push_back(allow(u.syscalls));
  if (!has(bounding, "CAP_SYS_ADMIN")) {
    // clone, but never into new namespaces; clone3 cannot be inspected, so
    // it answers ENOSYS and libc falls back to clone.
    constexpr std::uint64_t namespaces =
        CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
    s.syscalls.push_back(allow({"clone"}, {arg(0, namespaces, 0, "SCMP_CMP_MASKED_EQ")}));
    exec::seccomp_rule clone3;
    clone3.names = {"clone3"};
    clone3.action = "SCMP_ACT_ERRNO";
    clone3.errno_ret = ENOSYS;
    s.syscalls.push_back(clone3);
  }
  return s;
}

result<exec::seccomp_spec> load_seccomp_profile(const std::string& path) {
  auto bad = [&](const std::string& why) {
    return fail(error_kind::invalid_argument, fmt::format("seccomp profile \"{}\": {}", path, why));
  };
  if (path.empty() || path[0] != '/') return bad("must be an absolute path");
  std::ifstream in(path);
  if (!in) return bad(fmt::format("cannot be read: {}", std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  auto s = parse_seccomp_profile(text.str());
  if (!s) return bad(s.error().message());
  return s;
}

result<std::optional<exec::seccomp_spec>> container_seccomp(
    const runtime::v1::LinuxContainerSecurityContext& sc, const std::vector<std::string>& bounding,
    std::string_view unset_profile) {
  using runtime::v1::SecurityProfile;
  if (sc.privileged()) return std::nullopt;
  if (sc.has_seccomp()) {
    switch (sc.seccomp().profile_type()) {
      case SecurityProfile::RuntimeDefault:
        return runtime_default_profile(bounding);
      case SecurityProfile::Unconfined:
        return std::nullopt;
      case SecurityProfile::Localhost: {
        auto p = load_seccomp_profile(sc.seccomp().localhost_ref());
        if (!p) return tl::unexpected(p.error());
        return std::move(*p);
      }
      default:
        return fail(error_kind::invalid_argument,
                    fmt::format("seccomp profile type {} is not known", static_cast<int>(sc.seccomp().profile_type())));
    }
  }
  // The deprecated field, still sent by older kubelets and by crictl.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const std::string& path = sc.seccomp_profile_path();
#pragma GCC diagnostic pop
  if (path.empty()) {
    if (unset_profile == "runtime/default") return runtime_default_profile(bounding);
    return std::nullopt;
  }
  if (path == "unconfined") return std::nullopt;
  if (path == "runtime/default" || path == "docker/default") return runtime_default_profile(bounding);
  if (path.rfind("localhost/", 0) == 0) {
    auto p = load_seccomp_profile(path.substr(std::string_view("localhost").size()));
    if (!p) return tl::unexpected(p.error());
    return std::move(*p);
  }
  return fail(error_kind::invalid_argument, fmt::format("seccomp profile path \"{}\" is not known", path));
}

}  // namespace ringcri::cri::spec
