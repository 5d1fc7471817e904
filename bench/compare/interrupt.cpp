#include "interrupt.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <system_error>

namespace ringcri::bench {

namespace {

// The pipe from the handler to the watching thread; never closed (a
// handler may still write to it while the process ends).
int pipe_fds[2] = {-1, -1};
std::atomic<int> signal_seen{0};

std::mutex runtime_mutex;
pid_t runtime_pid = -1;
std::string runtime_name;

constexpr int signals[] = {SIGINT, SIGTERM, SIGHUP};

const char* name_of(int signo) {
  switch (signo) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "signal";
  }
}

extern "C" void on_signal(int signo) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(signo);
  // Non-blocking: with the pipe full a signal is dropped, never waited on.
  [[maybe_unused]] auto n = ::write(pipe_fds[1], &b, 1);
  errno = saved;
}

// From the first signal on the three are ignored, here and (an ignored
// signal stays ignored across exec) in what the clean-up runs: a second
// Ctrl-C at the terminal, which reaches the whole process group, cuts
// short neither this process nor the registry's stop script, nor an `ip`
// or `iptables`.
void ignore_signals() {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigemptyset(&ignore.sa_mask);
  for (int s : signals) ::sigaction(s, &ignore, nullptr);
}

void act_on(int signo) {
  ignore_signals();
  // Again after a second signal: system() puts back, when it returns, the
  // SIGINT action it found when it started (the handler, if the first
  // signal came while it ran).
  int none = 0;
  if (!signal_seen.compare_exchange_strong(none, signo)) return;
  std::fprintf(stderr,
               "bench_compare: %s: stopping the run and cleaning up what it started; "
               "SIGINT, SIGTERM and SIGHUP are ignored until that is done\n",
               name_of(signo));
  std::lock_guard lock(runtime_mutex);
  if (runtime_pid > 0) {
    std::fprintf(stderr, "bench_compare: killing %s (pid %d) so its calls fail\n",
                 runtime_name.c_str(), static_cast<int>(runtime_pid));
    ::kill(runtime_pid, SIGKILL);
  }
}

}  // namespace

interrupt_watch::interrupt_watch() {
  if (pipe_fds[0] < 0 && ::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe2");
  ::fcntl(pipe_fds[1], F_SETFL, O_NONBLOCK);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  ::sigemptyset(&sa.sa_mask);
  for (int s : signals) ::sigaction(s, &sa, nullptr);
  thread_ = std::thread([] {
    for (;;) {
      unsigned char b;
      ssize_t n = ::read(pipe_fds[0], &b, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || b == 0) return;  // 0: the destructor's stop
      act_on(b);
    }
  });
}

interrupt_watch::~interrupt_watch() {
  unsigned char stop = 0;
  while (::write(pipe_fds[1], &stop, 1) < 0 && (errno == EINTR || errno == EAGAIN)) {
  }
  thread_.join();
}

bool interrupted() { return signal_seen.load() != 0; }

int interrupt_signal() { return signal_seen.load(); }

const char* interrupt_signal_name() { return name_of(signal_seen.load()); }

void throw_if_interrupted() {
  if (interrupted()) throw interrupted_error();
}

kill_on_interrupt::kill_on_interrupt(pid_t pid, std::string name) {
  std::lock_guard lock(runtime_mutex);
  runtime_pid = pid;
  runtime_name = std::move(name);
  // Interrupted while the daemon started: it is killed now.
  if (interrupted() && pid > 0) ::kill(pid, SIGKILL);
}

kill_on_interrupt::~kill_on_interrupt() {
  std::lock_guard lock(runtime_mutex);
  runtime_pid = -1;
}

}  // namespace ringcri::bench
