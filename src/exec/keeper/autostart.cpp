// The double fork that detaches a keeper from the daemon.

#include "exec/keeper/autostart.hpp"

#include <fcntl.h>
#include <sched.h>
#include <fmt/format.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "reactor/pool.hpp"

namespace ringcri::exec::keeper {

namespace fs = std::filesystem;

result<void> start_keeper_process(const options& opts) {
  // Everything the children need is prepared here: after fork only
  // async-signal-safe calls.
  std::error_code ec;
  fs::path state = fs::absolute(opts.state_dir, ec);
  if (ec) return fail_errno(ec.value(), fmt::format("resolve {}", opts.state_dir.string()));
  fs::create_directories(state, ec);
  if (ec) return fail_errno(ec.value(), fmt::format("create {}", state.string()));
  fs::path binary = fs::absolute(opts.binary, ec);
  if (ec) return fail_errno(ec.value(), fmt::format("resolve {}", opts.binary.string()));

  std::vector<std::string> args = {binary.string(), "keeper",      "--state",
                                   state.string(),  "--log-level", opts.log_level};
  if (opts.log_to == log_target::journald) {
    args.insert(args.end(), {"--log-target", "journald"});
  } else {
    args.insert(args.end(), {"--log-target", "file", "--log-max-bytes", std::to_string(opts.log_max_bytes)});
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::string log_path = (state / "keeper.log").string();
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (log_fd < 0) return fail_errno(errno, fmt::format("open {}", log_path));
  unique_fd log(log_fd);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) return fail_errno(errno, "open /dev/null");
  unique_fd null(null_fd);

  // The process's CPUs, not the calling thread's one core: the keeper,
  // its spawners and every container would inherit that.
  const cpu_set_t cpus = reactor::process_cpus();

  pid_t middle = ::fork();
  if (middle < 0) return fail_errno(errno, "fork to start the keeper");
  if (middle == 0) {
    // The intermediate: a new session, then the keeper as its child; it
    // exits at once so the keeper is reparented away from the daemon.
    ::setsid();
    ::sched_setaffinity(0, sizeof cpus, &cpus);
    pid_t keeper = ::fork();
    if (keeper != 0) ::_exit(keeper < 0 ? 1 : 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the daemon blocks SIGTERM/SIGINT
    if (::dup2(null.get(), 0) < 0 || ::dup2(log.get(), 1) < 0 || ::dup2(log.get(), 2) < 0) {
      ::_exit(126);
    }
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    if (::chdir("/") != 0) ::_exit(126);  // hold no mount busy
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(middle, &status, 0) < 0) {
    if (errno != EINTR) return fail_errno(errno, "wait for the keeper's launcher");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fail(error_kind::internal,
                fmt::format("could not fork the keeper ({})", binary.string()));
  }
  return {};
}

}  // namespace ringcri::exec::keeper
