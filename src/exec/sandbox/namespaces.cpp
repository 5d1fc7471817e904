// Holding a pod's namespaces by bind mounts (see namespaces.hpp).
//
// The daemon is multi-threaded, so the child made by clone3 is a copy of
// one thread of a process whose other threads may hold malloc's or any
// other lock: it runs only system calls on the plan prepared before the
// clone, reports a failure as a fixed-size record in a pipe and _exits.

#include "exec/sandbox/namespaces.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/sys/make_dirs.hpp"
#include "base/sys/pipe.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::exec::sandbox {

namespace {

namespace fs = std::filesystem;
using detail::hold_step;

// The kinds held, in the order the child mounts them.
struct ns_kind {
  const char* file;  // name under <pod_dir>/ns and /proc/self/ns
  int clone_flag;
  hold_step mount_step;
  hold_step open_step;
};
constexpr std::array<ns_kind, 3> ns_kinds{{
    {"net", CLONE_NEWNET, hold_step::mount_net, hold_step::open_net},
    {"ipc", CLONE_NEWIPC, hold_step::mount_ipc, hold_step::open_ipc},
    {"uts", CLONE_NEWUTS, hold_step::mount_uts, hold_step::open_uts},
}};
// The pod's user namespace, released after the namespaces it owns.
constexpr const char* user_file = "user";

// What the child does, prepared by the parent: only pointers into strings
// the parent keeps alive, and plain values.
struct hold_plan {
  const char* hostname = nullptr;  // null: leave the name alone
  size_t hostname_len = 0;
  bool loopback_up = false;
  std::array<const char*, 3> sources{};  // /proc/self/ns/<file>, or null
  std::array<const char*, 3> targets{};  // held file, or null
  int report_fd = -1;
  hold_step fail_at = hold_step::none;
  // With a user namespace: the child joins it and unshares these, then
  // opens each namespace into `opened` (its fd table is the parent's,
  // CLONE_FILES) instead of mounting it.
  int userns_fd = -1;
  int unshare_flags = 0;
  std::array<int, 3> opened{-1, -1, -1};
};

// The record a failing child writes into the report pipe.
struct child_failure {
  std::int32_t step;
  std::int32_t err;
};

[[noreturn]] void child_fail(const hold_plan& plan, hold_step step, int err) {
  child_failure f{static_cast<std::int32_t>(step), err};
  ssize_t n = ::write(plan.report_fd, &f, sizeof f);
  (void)n;  // nothing more to do if the parent cannot hear us
  ::_exit(1);
}

// Fails the child if the step's call failed, or if a test asked this step
// to fail.
void child_check(const hold_plan& plan, hold_step step, bool ok) {
  if (!ok) child_fail(plan, step, errno);
  if (plan.fail_at == step) child_fail(plan, step, EIO);
}

// Runs in the cloned child: async-signal-safe system calls only.
[[noreturn]] void child_main(hold_plan& plan) {
  if (plan.userns_fd >= 0) {
    child_check(plan, hold_step::join_user, ::setns(plan.userns_fd, CLONE_NEWUSER) == 0);
    child_check(plan, hold_step::unshare, ::unshare(plan.unshare_flags) == 0);
  }
  if (plan.hostname != nullptr)
    child_check(plan, hold_step::set_hostname,
                ::sethostname(plan.hostname, plan.hostname_len) == 0);
  if (plan.loopback_up) {
    // A new network namespace has lo, but down: containers expect 127.0.0.1.
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    child_check(plan, hold_step::loopback_socket, sock >= 0);
    struct ifreq ifr;
    std::memset(&ifr, 0, sizeof ifr);
    std::memcpy(ifr.ifr_name, "lo", 3);
    child_check(plan, hold_step::loopback_get_flags, ::ioctl(sock, SIOCGIFFLAGS, &ifr) == 0);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    child_check(plan, hold_step::loopback_set_flags, ::ioctl(sock, SIOCSIFFLAGS, &ifr) == 0);
    ::close(sock);
  }
  for (size_t i = 0; i < ns_kinds.size(); ++i) {
    if (plan.targets[i] == nullptr) continue;
    if (plan.userns_fd >= 0) {
      plan.opened[i] = ::open(plan.sources[i], O_RDONLY | O_CLOEXEC);
      child_check(plan, ns_kinds[i].open_step, plan.opened[i] >= 0);
      continue;
    }
    child_check(plan, ns_kinds[i].mount_step,
                ::mount(plan.sources[i], plan.targets[i], nullptr, MS_BIND, nullptr) == 0);
  }
  ::_exit(0);
}

// Unmounts every mount stacked on `path`. Not mounted or missing is fine.
result<void> unmount_all(const fs::path& path) {
  for (int i = 0; i < 16; ++i) {
    if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) return {};
    return fail_errno(errno, fmt::format("unmount {}", path.string()));
  }
  return fail(error_kind::internal,
              fmt::format("unmount {}: still mounted after 16 unmounts", path.string()));
}

// Undoes a half-made hold_namespaces unless dismissed.
class hold_undo {
 public:
  hold_undo() = default;
  hold_undo(const hold_undo&) = delete;
  hold_undo& operator=(const hold_undo&) = delete;
  ~hold_undo() {
    if (dismissed_) return;
    for (const auto& f : files_) {
      (void)unmount_all(f);
      ::unlink(f.c_str());
    }
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) ::rmdir(it->c_str());
  }
  void made_dir(fs::path p) { dirs_.push_back(std::move(p)); }
  void made_file(fs::path p) { files_.push_back(std::move(p)); }
  void dismiss() { dismissed_ = true; }

 private:
  std::vector<fs::path> dirs_;
  std::vector<fs::path> files_;
  bool dismissed_ = false;
};

// mkdir -p, remembering what it made so a failure can remove it.
result<void> make_dirs(const fs::path& dir, mode_t mode, hold_undo& undo) {
  auto made = sys::make_dirs(dir.native(), mode);
  if (!made) return tl::unexpected(std::move(made.error()));
  for (auto& d : *made) undo.made_dir(std::move(d));
  return {};
}

std::string describe_step(hold_step step, const hold_plan& plan, const namespace_request& req) {
  auto mount_what = [&](size_t i) {
    return fmt::format("bind-mount {} onto {}", plan.sources[i] ? plan.sources[i] : "?",
                       plan.targets[i] ? plan.targets[i] : "?");
  };
  switch (step) {
    case hold_step::none:
      return "namespace holder";
    case hold_step::set_hostname:
      return fmt::format("set hostname \"{}\"", req.hostname);
    case hold_step::loopback_socket:
      return "open a socket to bring up lo";
    case hold_step::loopback_get_flags:
      return "read the flags of lo";
    case hold_step::loopback_set_flags:
      return "bring up lo";
    case hold_step::mount_net:
      return mount_what(0);
    case hold_step::mount_ipc:
      return mount_what(1);
    case hold_step::mount_uts:
      return mount_what(2);
    case hold_step::join_user:
      return "join the pod's user namespace";
    case hold_step::unshare:
      return "make the pod's namespaces in its user namespace";
    case hold_step::open_net:
    case hold_step::open_ipc:
    case hold_step::open_uts: {
      size_t i = static_cast<size_t>(step) - static_cast<size_t>(hold_step::open_net);
      return fmt::format("open {}", plan.sources[i] ? plan.sources[i] : "?");
    }
  }
  return fmt::format("unknown step {}", static_cast<int>(step));
}

}  // namespace

result<held_namespaces> hold_namespaces(const fs::path& pod_dir, const namespace_request& req) {
  return detail::hold_namespaces(pod_dir, req, hold_step::none);
}

result<held_namespaces> detail::hold_namespaces(const fs::path& pod_dir,
                                                const namespace_request& req, hold_step fail_at) {
  auto context = [&](error e) {
    return tl::unexpected<error>(
        std::move(e).context(fmt::format("hold namespaces of pod dir {}", pod_dir.string())));
  };
  const std::array<bool, 3> wanted{req.network, req.ipc, req.uts};
  if (!req.network && !req.ipc && !req.uts && req.uid_mappings.empty()) return held_namespaces{};
  if (pod_dir.empty() || !pod_dir.is_absolute())
    return fail(error_kind::invalid_argument,
                fmt::format("pod dir \"{}\" is not an absolute path", pod_dir.string()));
  if (req.uts &&
      (req.hostname.size() > HOST_NAME_MAX || req.hostname.find('\0') != std::string::npos))
    return fail(error_kind::invalid_argument,
                fmt::format("hostname \"{}\" is not a valid host name (at most {} bytes)",
                            req.hostname, HOST_NAME_MAX));

  hold_undo undo;
  const fs::path ns_dir = pod_dir / "ns";
  if (auto r = make_dirs(pod_dir, 0755, undo); !r) return context(r.error());
  if (::mkdir(ns_dir.c_str(), 0700) == 0)
    undo.made_dir(ns_dir);
  else if (errno != EEXIST)
    return context(error::from_errno(errno, fmt::format("make directory {}", ns_dir.string())));

  // Every string the child touches is made here, before the clone.
  auto make_target = [&](const std::string& target) -> result<void> {
    unique_fd fd(::open(target.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0400));
    if (!fd) {
      if (errno == EEXIST)
        return tl::unexpected(error(error_kind::already_exists,
                                    fmt::format("namespace file {} already exists", target),
                                    EEXIST));
      return fail_errno(errno, fmt::format("create {}", target));
    }
    undo.made_file(target);
    return {};
  };

  // The pod's user namespace first: the others are made inside it.
  const bool with_user = !req.uid_mappings.empty();
  unique_fd userns;
  std::string user_target;
  if (with_user) {
    user_target = (ns_dir / user_file).string();
    if (auto r = make_target(user_target); !r) return context(r.error());
    auto made = sys::make_user_namespace(req.uid_mappings, req.gid_mappings);
    if (!made) return context(made.error());
    userns = std::move(*made);
    if (::mount(fmt::format("/proc/self/fd/{}", userns.get()).c_str(), user_target.c_str(), nullptr,
                MS_BIND, nullptr) != 0)
      return context(error::from_errno(
          errno, fmt::format("bind-mount the pod's user namespace onto {}", user_target)));
  }

  std::array<std::string, 3> sources;
  std::array<std::string, 3> targets;
  hold_plan plan;
  plan.fail_at = fail_at;
  int clone_flags = 0;
  for (size_t i = 0; i < ns_kinds.size(); ++i) {
    if (!wanted[i]) continue;
    targets[i] = (ns_dir / ns_kinds[i].file).string();
    sources[i] = fmt::format("/proc/self/ns/{}", ns_kinds[i].file);
    if (auto r = make_target(targets[i]); !r) return context(r.error());
    plan.sources[i] = sources[i].c_str();
    plan.targets[i] = targets[i].c_str();
    clone_flags |= ns_kinds[i].clone_flag;
  }
  if (req.uts && !req.hostname.empty()) {
    plan.hostname = req.hostname.c_str();
    plan.hostname_len = req.hostname.size();
  }
  plan.loopback_up = req.network;
  if (with_user) {
    // The child shares our fd table so that what it opens stays ours, and
    // makes the namespaces itself, after joining the user namespace.
    plan.userns_fd = userns.get();
    plan.unshare_flags = clone_flags;
    clone_flags = CLONE_FILES;
  }

  auto report = sys::make_pipe();
  if (!report) return context(std::move(report.error()).context("report pipe"));
  unique_fd report_read = std::move(report->read);
  unique_fd report_write = std::move(report->write);
  plan.report_fd = report_write.get();

  // CLONE_VM|CLONE_VFORK: the child borrows the daemon's memory on a stack
  // of its own and the calling thread waits until it exits. Copying the
  // daemon's page tables instead (a plain fork) costs milliseconds here,
  // more than everything else the pod start does.
  int pidfd = -1;
  std::vector<char> stack(64 * 1024);
  auto entry = [](void* arg) -> int { child_main(*static_cast<hold_plan*>(arg)); };

  // The child must not run the daemon's signal handlers: it starts with
  // every signal blocked, and the parent restores its mask after the clone.
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid = ::clone(entry, stack.data() + stack.size(), clone_flags | CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
                     &plan, &pidfd);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return context(error::from_errno(clone_errno, "clone the namespace holder"));
  unique_fd child(pidfd);
  report_write.reset();
  // What the child opened is ours now, whatever happened after.
  std::array<unique_fd, 3> opened;
  for (size_t i = 0; i < opened.size(); ++i) opened[i].reset(plan.opened[i]);

  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  while (::waitid(static_cast<idtype_t>(P_PIDFD), child.get(), &info, WEXITED) != 0) {
    if (errno != EINTR)
      return context(error::from_errno(errno, fmt::format("wait for namespace holder {}", pid)));
  }

  child_failure failure{};
  ssize_t n;
  do {
    n = ::read(report_read.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    auto step = static_cast<hold_step>(failure.step);
    return context(error::from_errno(failure.err, describe_step(step, plan, req)));
  }
  if (info.si_code != CLD_EXITED || info.si_status != 0) {
    std::string how = info.si_code == CLD_EXITED
                          ? fmt::format("exited with status {}", info.si_status)
                          : fmt::format("was killed by signal {}", info.si_status);
    return context(error(error_kind::internal, fmt::format("namespace holder {} {}", pid, how)));
  }

  for (size_t i = 0; i < ns_kinds.size(); ++i) {
    if (!opened[i]) continue;
    if (::mount(fmt::format("/proc/self/fd/{}", opened[i].get()).c_str(), targets[i].c_str(),
                nullptr, MS_BIND, nullptr) != 0)
      return context(error::from_errno(
          errno,
          fmt::format("bind-mount the pod's {} namespace onto {}", ns_kinds[i].file, targets[i])));
  }

  undo.dismiss();
  return held_namespaces{targets[0], targets[1], targets[2], user_target};
}

result<void> release_namespaces(const fs::path& pod_dir) {
  const fs::path ns_dir = pod_dir / "ns";
  auto context = [&](error e) {
    return tl::unexpected<error>(
        std::move(e).context(fmt::format("release namespaces of pod dir {}", pod_dir.string())));
  };
  for (const auto& kind : ns_kinds) {
    const fs::path file = ns_dir / kind.file;
    if (auto r = unmount_all(file); !r) return context(r.error());
    if (::unlink(file.c_str()) != 0 && errno != ENOENT)
      return context(error::from_errno(errno, fmt::format("remove {}", file.string())));
  }
  const fs::path user = ns_dir / user_file;
  if (auto r = unmount_all(user); !r) return context(r.error());
  if (::unlink(user.c_str()) != 0 && errno != ENOENT)
    return context(error::from_errno(errno, fmt::format("remove {}", user.string())));
  if (::rmdir(ns_dir.c_str()) != 0 && errno != ENOENT)
    return context(error::from_errno(errno, fmt::format("remove {}", ns_dir.string())));
  return {};
}

}  // namespace ringcri::exec::sandbox
