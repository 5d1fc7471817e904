// waitid on a pidfd: a real child's exit status, signal, and cancellation.

#include <catch2/catch.hpp>

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reactor/ops.hpp"
#include "support/io_checks.hpp"
#include "reactor/reactor.hpp"

using namespace ringcri::reactor;
namespace io = ringcri::reactor;

namespace {

// Starts `argv` with clone3(CLONE_PIDFD) and returns the pidfd.
int spawn(const char* const argv[]) {
  int pidfd = -1;
  clone_args args{};
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) {
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  REQUIRE(pid > 0);
  return pidfd;
}

}  // namespace

TEST_CASE("waitid on a pidfd returns the child's exit code and reaps it") {
  reactor r;
  const char* argv[] = {"/bin/sh", "-c", "exit 3", nullptr};
  int pidfd = spawn(argv);
  siginfo_t info{};
  auto res = r.block_on([](int pidfd, siginfo_t* info) -> task<io_result<int>> {
    co_return co_await io::waitid(pidfd, info);
  }(pidfd, &info));
  REQUIRE(res);
  CHECK(info.si_code == CLD_EXITED);
  CHECK(info.si_status == 3);
  // Reaped: a second wait finds no child.
  siginfo_t again{};
  CHECK(::waitid(P_PIDFD, pidfd, &again, WEXITED | WNOHANG) == -1);
  CHECK(errno == ECHILD);
  ::close(pidfd);
}

TEST_CASE("waitid reports a child killed by a signal") {
  reactor r;
  const char* argv[] = {"/bin/sleep", "30", nullptr};
  int pidfd = spawn(argv);
  siginfo_t info{};
  r.block_on([](int pidfd, siginfo_t* info) -> task<void> {
    REQUIRE(::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) == 0);
    CO_REQUIRE(co_await io::waitid(pidfd, info));
  }(pidfd, &info));
  CHECK(info.si_code == CLD_KILLED);
  CHECK(info.si_status == SIGKILL);
  ::close(pidfd);
}

TEST_CASE("a waitid whose owner goes away is cancelled, leaving the child unreaped") {
  reactor r;
  const char* argv[] = {"/bin/sleep", "30", nullptr};
  int pidfd = spawn(argv);
  {
    siginfo_t info{};
    auto waiter = [](int pidfd, siginfo_t* info) -> task<void> {
      co_await io::waitid(pidfd, info);
      FAIL("the wait must not complete");
    }(pidfd, &info);
    // Start the wait, let the loop submit it, then drop the task.
    r.block_on([](task<void>& w) -> task<void> {
      auto h = w.handle();
      h.resume();  // runs until the waitid suspends
      co_await io::nop();
    }(waiter));
    CHECK(r.ops_in_flight() == 1);
  }  // the waiter's frame is destroyed here: its op is cancelled and drained
  CHECK(r.ops_in_flight() == 0);
  // The child is still ours to reap.
  ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  siginfo_t info{};
  REQUIRE(::waitid(P_PIDFD, pidfd, &info, WEXITED) == 0);
  CHECK(info.si_status == SIGKILL);
  ::close(pidfd);
}
