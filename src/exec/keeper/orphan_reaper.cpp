// SIGCHLD self-pipe and the list of the keeper's children.

#include "exec/keeper/orphan_reaper.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>

#include "base/sys/list_dir.hpp"
#include "base/sys/pipe.hpp"

namespace ringcri::exec::keeper {

namespace {

int sigchld_write_fd = -1;

void on_sigchld(int) {
  int saved = errno;
  char byte = 0;
  // A full pipe already holds a wakeup.
  [[maybe_unused]] ssize_t n = ::write(sigchld_write_fd, &byte, 1);
  errno = saved;
}

}  // namespace

result<unique_fd> install_sigchld_pipe() {
  auto p = sys::make_pipe(sys::nonblocking_end::both);
  if (!p) return tl::unexpected(std::move(p.error()).context("SIGCHLD pipe"));
  unique_fd read_end = std::move(p->read);
  sigchld_write_fd = p->write.release();  // lives as long as the process
  struct sigaction sa {};
  sa.sa_handler = on_sigchld;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  if (::sigaction(SIGCHLD, &sa, nullptr) != 0)
    return fail_errno(errno, "install the SIGCHLD handler");
  return read_end;
}

void drain_sigchld_pipe(int fd) {
  char buf[256];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

std::vector<pid_t> list_children() {
  std::vector<pid_t> out;
  auto tasks = sys::list_dir(AT_FDCWD, "/proc/self/task");
  if (!tasks) return out;
  for (const auto& task : *tasks) {
    std::ifstream in("/proc/self/task/" + task.name + "/children");
    pid_t pid;
    while (in >> pid) out.push_back(pid);
  }
  return out;
}

}  // namespace ringcri::exec::keeper
