// Process state a spawned child resets on entry, its stdio and its exec.

#include "exec/spawn/child.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "base/sys/process_title.hpp"
#include "base/unique_fd.hpp"
#include "exec/spawn/report.hpp"

namespace ringcri::exec::spawn_detail {

void reset_signals() {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::signal(sig, SIG_DFL);  // fails harmlessly for the numbers glibc reserves
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void close_fds_except(std::initializer_list<int> keep) {
  std::vector<int> kept;
  for (int fd : keep)
    if (fd >= 0) kept.push_back(fd);
  std::sort(kept.begin(), kept.end());
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  unsigned first = 0;
  for (int fd : kept) {
    if (static_cast<unsigned>(fd) > first) ::close_range(first, static_cast<unsigned>(fd) - 1, 0);
    first = static_cast<unsigned>(fd) + 1;
  }
  ::close_range(first, ~0U, 0);
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) continue;
    int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd >= 0 && null_fd != fd) {
      ::dup2(null_fd, fd);
      ::close(null_fd);
    }
  }
}

void enter_child(std::string_view title, std::initializer_list<int> keep) {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  reset_signals();
  close_fds_except(keep);
  sys::set_process_title(title);
}

result<void> install_stdio(const stdio_fds& io) {
  // First copies above 2, so that io.out == 0 or io.err == 1 cannot be
  // overwritten by an earlier dup2.
  const int wanted[3] = {io.in, io.out, io.err};
  unique_fd copies[3];
  for (int i = 0; i < 3; ++i) {
    int fd = wanted[i] >= 0 ? ::fcntl(wanted[i], F_DUPFD_CLOEXEC, 3)
                            : ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) return fail_errno(errno, wanted[i] >= 0 ? "dup stdio" : "open \"/dev/null\"");
    // An fd opened on 0..2 would be clobbered by the dup2 below.
    if (fd <= 2) {
      int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
      int e = errno;
      ::close(fd);
      if (high < 0) return fail_errno(e, "dup stdio");
      fd = high;
    }
    copies[i].reset(fd);
  }
  for (int i = 0; i < 3; ++i)
    if (::dup2(copies[i].get(), i) < 0) return fail_errno(errno, "dup2 stdio");
  return {};
}

result<void> take_controlling_terminal() {
  if (::setsid() < 0) return fail_errno(errno, "setsid for the terminal");
  if (::ioctl(0, TIOCSCTTY, 0) < 0) return fail_errno(errno, "make stdin the controlling terminal");
  return {};
}

std::string title_of(const process_spec& process) {
  if (process.args.empty()) return "container";
  const std::string& command = process.args[0];
  auto slash = command.rfind('/');
  return slash == std::string::npos ? command : command.substr(slash + 1);
}

exec_args exec_args_of(const process_spec& process, std::string executable) {
  exec_args out;
  out.executable = std::move(executable);
  for (const std::string& a : process.args) out.argv.push_back(const_cast<char*>(a.c_str()));
  out.argv.push_back(nullptr);
  for (const std::string& e : process.env) out.envp.push_back(const_cast<char*>(e.c_str()));
  out.envp.push_back(nullptr);
  return out;
}

void exec_or_report(const exec_args& args, int report_fd) {
  ::execve(args.executable.c_str(), args.argv.data(), args.envp.data());
  report_failure(report_fd, error::from_errno(errno, fmt::format("exec \"{}\"", args.executable)));
}

}  // namespace ringcri::exec::spawn_detail
