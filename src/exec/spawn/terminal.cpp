// A pty opened inside a container's devpts: from outside it (through
// /proc/<pid>/root), or by the container's own child before pivot_root.

#include "exec/spawn/terminal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>
#include <vector>

#include "base/sys/open_confined.hpp"
#include "base/sys/user_namespace.hpp"

namespace ringcri::exec {

namespace {

constexpr int pty_flags = O_RDWR | O_NOCTTY | O_CLOEXEC;

// The container's /dev/pts/ptmx, or nullopt when it has none. Resolved
// inside its root and opened only once it is known to be on a devpts: a
// file or device node of the image there is never opened.
result<std::optional<unique_fd>> open_container_ptmx(int root_fd) {
  int fd =
      sys::openat2_confined(root_fd, "/dev/pts/ptmx", sys::resolve::in_root, O_PATH | O_NOFOLLOW);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) return std::optional<unique_fd>();
  if (fd < 0) return fail_errno(errno, "find /dev/pts/ptmx in the container");
  unique_fd path(fd);
  struct statfs fs {};
  if (::fstatfs(path.get(), &fs) != 0) return fail_errno(errno, "statfs /dev/pts in the container");
  if (fs.f_type != DEVPTS_SUPER_MAGIC) return std::optional<unique_fd>();
  const std::string reopen = fmt::format("/proc/self/fd/{}", path.get());
  unique_fd ptmx(::open(reopen.c_str(), pty_flags | O_NONBLOCK));
  if (!ptmx) return fail_errno(errno, "open /dev/pts/ptmx in the container");
  return std::optional<unique_fd>(std::move(ptmx));
}

result<terminal> open_caller_terminal() {
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0)
    return fail_errno(errno, "open a pty");
  terminal t{unique_fd(master), unique_fd(slave)};
  ::fcntl(t.master.get(), F_SETFD, FD_CLOEXEC);
  ::fcntl(t.slave.get(), F_SETFD, FD_CLOEXEC);
  if (::fcntl(t.master.get(), F_SETFL, O_NONBLOCK) != 0)
    return fail_errno(errno, "make the pty master non-blocking");
  return t;
}

}  // namespace

result<terminal> open_terminal(pid_t pid, const user_spec& owner) {
  const std::string root_path = fmt::format("/proc/{}/root", pid);
  unique_fd root(::open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return fail_errno(errno, fmt::format("open {}", root_path));
  // The owner's uid as the host knows it: the container may be in a user
  // namespace of its pod (its uid_map then shifts the ids; the host's own
  // map is the identity).
  user_spec host_owner = owner;
  std::ifstream uid_map(fmt::format("/proc/{}/uid_map", pid));
  std::vector<sys::id_mapping> mappings;
  sys::id_mapping m;
  while (uid_map >> m.container_id >> m.host_id >> m.size) mappings.push_back(m);
  if (!mappings.empty()) host_owner.uid = sys::host_id_of(mappings, owner.uid);
  return open_terminal_in(root.get(), host_owner);
}

result<terminal> open_terminal_in(int root_fd, const user_spec& owner) {
  auto ptmx = open_container_ptmx(root_fd);
  if (!ptmx) return tl::unexpected(std::move(ptmx.error()));
  terminal t;
  if (*ptmx) {
    t.master = std::move(**ptmx);
    int unlock = 0;
    if (::ioctl(t.master.get(), TIOCSPTLCK, &unlock) != 0)
      return fail_errno(errno, "unlock the pty");
    // Opened through the master, so the slave is the one of this devpts
    // whatever the container's /dev/pts/<n> names.
    int slave = ::ioctl(t.master.get(), TIOCGPTPEER, pty_flags);
    if (slave < 0) return fail_errno(errno, "open the pty's slave");
    t.slave.reset(slave);
  } else {
    auto own = open_caller_terminal();
    if (!own) return own;
    t = std::move(*own);
  }
  // As login(1) does: the user's terminal. The group stays devpts' own.
  if (::fchown(t.slave.get(), owner.uid, static_cast<gid_t>(-1)) != 0)
    return fail_errno(errno, "chown the pty's slave");
  return t;
}

}  // namespace ringcri::exec
