// Running one CNI plugin (see plugin.hpp).
//
// The plugin is started with posix_spawn (glibc: clone with CLONE_VFORK,
// nothing allocated in the child), so this is safe in the multi-threaded
// daemon. Its stdin is a pipe filled before it starts, so writing it can
// neither block nor raise SIGPIPE; stdout and stderr are read together
// with poll, with a pidfd telling when it has exited, so a plugin that
// writes much to stderr cannot stall on a full pipe.

#include "net/cni/plugin.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "base/sys/pipe.hpp"
#include "base/unique_fd.hpp"
#include "net/cni/plugin_error.hpp"
#include "net/cni/plugin_path.hpp"

namespace ringcri::net::cni {

namespace {

namespace chr = std::chrono;

// A result is a few KB; more than this is a broken plugin.
constexpr size_t max_stdout = 16u << 20;
// Only the start of stderr is kept (for the error message); the rest is
// read and dropped.
constexpr size_t max_stderr = 64u << 10;

constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// An fd moved above 2, so that the dup2s onto the child's 0, 1 and 2
// cannot overwrite each other even when the daemon runs with stdio closed.
result<unique_fd> above_stdio(unique_fd fd) {
  if (fd.get() > 2) return fd;
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return fail_errno(errno, "move a pipe fd");
  return unique_fd(moved);
}

// A pipe for the plugin's stdio, both ends above 2 (a dup shares the
// O_NONBLOCK of `nonblocking`).
result<sys::pipe_fds> make_plugin_pipe(sys::nonblocking_end nonblocking) {
  auto p = sys::make_pipe(nonblocking);
  if (!p) return p;
  auto read = above_stdio(std::move(p->read));
  if (!read) return tl::unexpected(std::move(read.error()));
  auto write = above_stdio(std::move(p->write));
  if (!write) return tl::unexpected(std::move(write.error()));
  return sys::pipe_fds{std::move(*read), std::move(*write)};
}

// The stdin pipe, already holding all of `text` and closed for writing.
result<unique_fd> filled_stdin(const std::string& text) {
  auto p = make_plugin_pipe(sys::nonblocking_end::write);
  if (!p) return tl::unexpected(std::move(p.error()));
  if (text.size() > 65536 &&
      ::fcntl(p->write.get(), F_SETPIPE_SZ, static_cast<int>(text.size())) < 0)
    return fail_errno(errno, fmt::format("make room for a {}-byte plugin config", text.size()));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(p->write.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, "write the plugin config");
    }
    done += static_cast<size_t>(n);
  }
  return std::move(p->read);
}

// One output pipe of the plugin, read until EOF.
struct output {
  output(unique_fd f, size_t max) : fd(std::move(f)), cap(max) {}

  unique_fd fd;
  size_t cap;
  std::string text;
  bool overflowed = false;

  bool open() const { return static_cast<bool>(fd); }

  // Reads what is there now; closes the fd at EOF. False on EAGAIN.
  result<bool> read_some() {
    char buf[65536];
    while (true) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return false;
        return fail_errno(errno, "read plugin output");
      }
      if (n == 0) {
        fd.reset();
        return false;
      }
      size_t room = cap - std::min(cap, text.size());
      if (static_cast<size_t>(n) > room) overflowed = true;
      text.append(buf, std::min(room, static_cast<size_t>(n)));
      return true;
    }
  }

  // After the plugin has exited: whatever is left in the pipe. A process
  // it left behind that keeps writing is cut off after a bounded number of
  // reads.
  result<void> drain() {
    for (int reads = 0; open() && reads < 1024; ++reads) {
      auto more = read_some();
      if (!more) return tl::unexpected(std::move(more.error()));
      if (!*more) break;
    }
    return {};
  }
};

// The started plugin. Killed (its whole process group) and reaped if it
// is given up on before it has been waited for.
struct running_plugin {
  pid_t pid = -1;
  unique_fd pidfd;
  bool reaped = false;

  running_plugin() = default;
  running_plugin(const running_plugin&) = delete;
  running_plugin& operator=(const running_plugin&) = delete;
  ~running_plugin() {
    if (pid > 0 && !reaped) {
      kill();
      (void)wait();
    }
  }

  void kill() const { ::kill(-pid, SIGKILL); }

  // "exit status N" / "killed by signal N"; the exit code (128 + signal
  // when killed) in *code.
  result<std::string> wait(int* code = nullptr) {
    siginfo_t info{};
    auto wait_once = [&] {
      if (pidfd)
        return ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd.get()), &info,
                        WEXITED);
      return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED);
    };
    int rc;
    while ((rc = wait_once()) != 0 && errno == EINTR) {
    }
    if (rc != 0) return fail_errno(errno, "wait for the plugin");
    reaped = true;
    if (info.si_code == CLD_EXITED) {
      if (code) *code = info.si_status;
      return fmt::format("exit status {}", info.si_status);
    }
    if (code) *code = 128 + info.si_status;
    return fmt::format("killed by signal {}", info.si_status);
  }
};

class spawn_setup {
 public:
  spawn_setup() {
    ::posix_spawn_file_actions_init(&actions_);
    ::posix_spawnattr_init(&attr_);
  }
  ~spawn_setup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attr_);
  }
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;

  // stdin, stdout, stderr onto 0, 1, 2; every other fd closed; cwd "/";
  // default signals, empty mask, a process group of its own.
  int prepare(int in, int out, int err) {
    int rc = 0;
    if ((rc = ::posix_spawn_file_actions_adddup2(&actions_, in, 0)) != 0) return rc;
    if ((rc = ::posix_spawn_file_actions_adddup2(&actions_, out, 1)) != 0) return rc;
    if ((rc = ::posix_spawn_file_actions_adddup2(&actions_, err, 2)) != 0) return rc;
    if ((rc = ::posix_spawn_file_actions_addclosefrom_np(&actions_, 3)) != 0) return rc;
    if ((rc = ::posix_spawn_file_actions_addchdir_np(&actions_, "/")) != 0) return rc;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if ((rc = ::posix_spawnattr_setsigmask(&attr_, &none)) != 0) return rc;
    if ((rc = ::posix_spawnattr_setsigdefault(&attr_, &all)) != 0) return rc;
    if ((rc = ::posix_spawnattr_setpgroup(&attr_, 0)) != 0) return rc;
    return ::posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  }

  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

std::vector<std::string> environment_of(const invocation& inv) {
  const char* path = std::getenv("PATH");
  return {
      fmt::format("CNI_COMMAND={}", to_string(inv.cmd)),
      fmt::format("CNI_CONTAINERID={}", inv.container_id),
      fmt::format("CNI_NETNS={}", inv.netns_path),
      fmt::format("CNI_IFNAME={}", inv.ifname),
      fmt::format("CNI_ARGS={}", inv.args),
      fmt::format("CNI_PATH={}", join_plugin_dirs(inv.plugin_dirs)),
      fmt::format("PATH={}", path && *path ? path : default_path),
  };
}

// Reads stdout and stderr until the plugin exits or the deadline passes.
// True when it exited, false at the deadline.
result<bool> read_until_exit(running_plugin& child, output& out, output& err,
                             chr::steady_clock::time_point deadline) {
  while (true) {
    auto now = chr::steady_clock::now();
    if (now >= deadline) return false;
    auto left = chr::duration_cast<chr::milliseconds>(deadline - now) + chr::milliseconds(1);
    pollfd fds[3];
    nfds_t n = 0;
    fds[n++] = {child.pidfd.get(), POLLIN, 0};
    output* streams[2] = {&out, &err};
    output* polled[2] = {nullptr, nullptr};
    for (output* s : streams)
      if (s->open()) {
        polled[n - 1] = s;
        fds[n++] = {s->fd.get(), POLLIN, 0};
      }
    int ready = ::poll(fds, n, static_cast<int>(std::min<long long>(left.count(), 60'000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, "poll plugin output");
    }
    for (nfds_t i = 1; i < n; ++i)
      if (fds[i].revents != 0) {
        auto more = polled[i - 1]->read_some();
        if (!more) return tl::unexpected(std::move(more.error()));
      }
    if (fds[0].revents != 0) return true;
  }
}

}  // namespace

std::string_view to_string(command cmd) {
  switch (cmd) {
    case command::add:
      return "ADD";
    case command::del:
      return "DEL";
    case command::check:
      return "CHECK";
    case command::version:
      return "VERSION";
  }
  return "UNKNOWN";
}

result<std::string> invoke_plugin(const invocation& inv) {
  auto exe = find_plugin(inv.type, inv.plugin_dirs);
  if (!exe) return tl::unexpected(std::move(exe.error()));

  auto in = filled_stdin(inv.stdin_json);
  if (!in) return tl::unexpected(std::move(in.error()).context(fmt::format("plugin {}", inv.type)));
  auto out_pipe = make_plugin_pipe(sys::nonblocking_end::read);
  if (!out_pipe) return tl::unexpected(std::move(out_pipe.error()));
  auto err_pipe = make_plugin_pipe(sys::nonblocking_end::read);
  if (!err_pipe) return tl::unexpected(std::move(err_pipe.error()));

  // Everything the child needs is built here, before the spawn.
  std::string exe_path = exe->string();
  std::vector<std::string> env = environment_of(inv);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  char* argv[] = {exe_path.data(), nullptr};

  spawn_setup setup;
  if (int rc = setup.prepare(in->get(), out_pipe->write.get(), err_pipe->write.get()); rc != 0)
    return fail_errno(rc, fmt::format("prepare to start plugin {}", inv.type));

  running_plugin child;
  if (int rc = ::posix_spawn(&child.pid, exe_path.c_str(), setup.actions(), setup.attr(), argv,
                             envp.data());
      rc != 0) {
    child.pid = -1;
    return fail_errno(rc, fmt::format("start plugin {} ({})", inv.type, exe_path));
  }
  // Only the child holds these now: EOF on stdout/stderr comes when it
  // (and whatever it started) is done with them.
  in->reset();
  out_pipe->write.reset();
  err_pipe->write.reset();

  // The pid is ours and not reaped yet, so it names this child.
  child.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)));
  if (!child.pidfd) return fail_errno(errno, fmt::format("open a pidfd for plugin {}", inv.type));

  output out{std::move(out_pipe->read), max_stdout};
  output err{std::move(err_pipe->read), max_stderr};
  auto exited = read_until_exit(child, out, err, chr::steady_clock::now() + inv.timeout);
  if (!exited)
    return tl::unexpected(std::move(exited.error()).context(fmt::format("plugin {}", inv.type)));
  if (!*exited) {
    child.kill();
    (void)child.wait();
    return fail(error_kind::deadline_exceeded,
                fmt::format("plugin {}: {} did not finish in {} ms; killed", inv.type,
                            to_string(inv.cmd), inv.timeout.count()));
  }
  // It has exited; what it wrote is in the pipes. A process it left
  // behind holding them is not waited for.
  if (auto ok = out.drain(); !ok) return tl::unexpected(ok.error());
  if (auto ok = err.drain(); !ok) return tl::unexpected(ok.error());

  int code = 0;
  auto how = child.wait(&code);
  if (!how) return tl::unexpected(std::move(how.error()));
  if (code != 0) return tl::unexpected(plugin_failure(inv.type, *how, out.text, err.text));
  if (out.overflowed)
    return fail(error_kind::internal,
                fmt::format("plugin {}: printed more than {} bytes", inv.type, max_stdout));
  return std::move(out.text);
}

}  // namespace ringcri::net::cni
