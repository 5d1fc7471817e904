// make_user_namespace and open_idmapped_tree (see user_namespace.hpp).

#include "base/sys/user_namespace.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "base/sys/pipe.hpp"

namespace ringcri::sys {

namespace {

std::string map_text(const std::vector<id_mapping>& mappings) {
  std::string text;
  for (const id_mapping& m : mappings)
    text += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
  return text;
}

result<void> write_map(pid_t pid, const char* file, const std::vector<id_mapping>& mappings) {
  const std::string path = fmt::format("/proc/{}/{}", pid, file);
  const std::string text = map_text(mappings);
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("open {}", path));
  // The kernel takes a map in one write only.
  ssize_t n = ::write(fd.get(), text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size()))
    return fail_errno(n < 0 ? errno : EIO, fmt::format("write \"{}\" to {}", text, path));
  return {};
}

// The pipe's ends as the child sees them (its own copy of the fd table).
struct hold_ends {
  int read = -1;
  int write = -1;
};

// The child: wait until the parent closes the pipe, then go. It runs no
// handler (every signal blocked across the clone); its copy of the write
// end goes first, or it would never see the end of file.
int wait_and_exit(void* arg) {
  const auto* ends = static_cast<const hold_ends*>(arg);
  ::close(ends->write);
  char byte;
  while (::read(ends->read, &byte, 1) < 0 && errno == EINTR) {
  }
  ::_exit(0);
}

}  // namespace

std::uint32_t host_id_of(const std::vector<id_mapping>& mappings, std::uint32_t id) {
  for (const id_mapping& m : mappings)
    if (id >= m.container_id && id - m.container_id < m.size)
      return m.host_id + (id - m.container_id);
  return overflow_id;
}

result<unique_fd> make_user_namespace(const std::vector<id_mapping>& uids,
                                      const std::vector<id_mapping>& gids) {
  auto hold = make_pipe();
  if (!hold) return tl::unexpected(std::move(hold.error()).context("make a user namespace"));
  hold_ends ends{hold->read.get(), hold->write.get()};

  // CLONE_VM: no copy of the caller's page tables (milliseconds for the
  // daemon); the child touches only its own stack and `child_read`.
  std::vector<char> stack(16 * 1024);
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  int pidfd = -1;
  pid_t pid = ::clone(wait_and_exit, stack.data() + stack.size(),
                      CLONE_NEWUSER | CLONE_VM | CLONE_PIDFD | SIGCHLD, &ends, &pidfd);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return fail_errno(clone_errno, "make a user namespace: clone");
  unique_fd child(pidfd);

  auto finish = [&] {
    hold->write.reset();  // the child reads EOF and exits
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    while (::waitid(static_cast<idtype_t>(P_PIDFD), child.get(), &info, WEXITED) != 0 &&
           errno == EINTR) {
    }
  };
  auto made = [&]() -> result<unique_fd> {
    if (auto r = write_map(pid, "uid_map", uids); !r) return tl::unexpected(r.error());
    if (auto r = write_map(pid, "gid_map", gids); !r) return tl::unexpected(r.error());
    const std::string ns = fmt::format("/proc/{}/ns/user", pid);
    unique_fd fd(::open(ns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno(errno, fmt::format("open {}", ns));
    return fd;
  }();
  finish();
  if (!made) return tl::unexpected(std::move(made.error()).context("make a user namespace"));
  return made;
}

result<unique_fd> open_idmapped_tree(const char* path, int userns_fd, bool recursive) {
  const unsigned recursive_flag = recursive ? AT_RECURSIVE : 0;
  unique_fd tree(::open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | recursive_flag));
  if (!tree) return fail_errno(errno, fmt::format("clone the mount of \"{}\"", path));
  struct mount_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<std::uint64_t>(userns_fd);
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | recursive_flag, &attr, sizeof attr) < 0)
    return fail_errno(errno, fmt::format("idmap the mount of \"{}\"", path));
  return tree;
}

}  // namespace ringcri::sys
