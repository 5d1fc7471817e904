// Exec over the streaming server: the command runs in the container as
// ExecSync runs it, with the client's streams for stdio.

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/sys/pipe.hpp"
#include "cri/exec_target.hpp"
#include "cri/keeper_link.hpp"
#include "cri/streaming/sessions.hpp"
#include "exec/spawn/terminal.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"
#include "stream/output_pump.hpp"

namespace ringcri::cri::streaming {

// The streaming protocols this session speaks.
using namespace ::ringcri::stream;

namespace io = reactor;

namespace {

// The command's side and ours of its stdio.
struct exec_stdio {
  exec::stdio_fds child;       // what the command gets
  std::vector<unique_fd> theirs;  // closed once the keeper has them
  unique_fd input;             // we write the client's stdin here
  unique_fd out;               // we read stdout (or the terminal) here
  unique_fd err;               // and stderr
  bool tty = false;
};

result<void> make_pipe(unique_fd& read_end, unique_fd& write_end, const char* what) {
  auto p = sys::make_pipe();
  if (!p)
    return tl::unexpected(std::move(p.error()).context(fmt::format("pipe for exec {}", what)));
  read_end = std::move(p->read);
  write_end = std::move(p->write);
  return {};
}

// `pid`: the container's process, whose /dev/pts the terminal is made on
// (the command then finds it by name, as `tty` does).
result<exec_stdio> make_stdio(const exec_request& req, pid_t pid, const exec::user_spec& user) {
  exec_stdio s;
  s.tty = req.tty;
  if (req.tty) {
    auto term = exec::open_terminal(pid, user);
    if (!term) return tl::unexpected(term.error());
    // Our reads and writes go through io_uring, which wants a blocking fd.
    ::fcntl(term->master.get(), F_SETFL, ::fcntl(term->master.get(), F_GETFL) & ~O_NONBLOCK);
    unique_fd m = std::move(term->master), sl = std::move(term->slave);
    if (req.stdin) s.child.in = sl.get();
    s.child.out = sl.get();
    s.child.err = sl.get();
    unique_fd dup(::fcntl(m.get(), F_DUPFD_CLOEXEC, 0));
    if (!dup) return fail_errno(errno, "dup the exec terminal");
    s.input = std::move(dup);
    s.out = std::move(m);
    s.theirs.push_back(std::move(sl));
    return s;
  }
  if (req.stdin) {
    unique_fd r;
    if (auto ok = make_pipe(r, s.input, "stdin"); !ok) return tl::unexpected(ok.error());
    s.child.in = r.get();
    s.theirs.push_back(std::move(r));
  }
  if (req.stdout) {
    unique_fd w;
    if (auto ok = make_pipe(s.out, w, "stdout"); !ok) return tl::unexpected(ok.error());
    s.child.out = w.get();
    s.theirs.push_back(std::move(w));
  }
  if (req.stderr) {
    unique_fd w;
    if (auto ok = make_pipe(s.err, w, "stderr"); !ok) return tl::unexpected(ok.error());
    s.child.err = w.get();
    s.theirs.push_back(std::move(w));
  }
  return s;
}

void resize_terminal(int fd, terminal_size size) {
  winsize ws{};
  ws.ws_col = size.width;
  ws.ws_row = size.height;
  ::ioctl(fd, TIOCSWINSZ, &ws);
}

}  // namespace

reactor::task<void> serve_exec(context& ctx, const exec_request& req, command_client& client) {
  auto target = exec_target_for(ctx, req.container_id, req.cmd);
  if (!target) {
    command_outcome failed{command_outcome::kind::error, 0, target.error().message(), {}};
    co_await client.finish(failed);
    co_return;
  }
  auto stdio = make_stdio(req, target->pid, target->spec.process.user);
  if (!stdio) {
    command_outcome failed{command_outcome::kind::error, 0, stdio.error().message(), {}};
    co_await client.finish(failed);
    co_return;
  }
  target->spec.process.terminal = req.tty;

  // The keeper kills the command when this pipe's write end closes: when
  // the client leaves, or the daemon dies.
  unique_fd hangup_read, hangup_write;
  if (auto ok = make_pipe(hangup_read, hangup_write, "hang-up"); !ok) {
    command_outcome failed{command_outcome::kind::error, 0, ok.error().message(), {}};
    co_await client.finish(failed);
    co_return;
  }

  command_input input;
  input.stdin_data = [&](std::string_view data) -> reactor::task<void> {
    if (!stdio->input) co_return;
    auto written = co_await write_all(stdio->input.get(), data);
    if (!written) stdio->input.reset();
  };
  input.stdin_end = [&] {
    if (!stdio->input) return;
    // A terminal has no end of file of its own: its EOF character is one.
    if (stdio->tty) (void)::write(stdio->input.get(), "\x04", 1);
    else stdio->input.reset();
  };
  input.resize = [&](terminal_size size) {
    if (stdio->tty) resize_terminal(stdio->out.get(), size);
  };
  bool client_left = false;
  input.left = [&] {
    client_left = true;
    hangup_write.reset();
  };

  output_readers pumps;
  command_outcome outcome;
  auto body = [&]() -> reactor::task<void> {
    auto ready = co_await client.ready();
    if (!ready) {
      spdlog::debug("msg=\"exec client not ready\" container={} error=\"{}\"", req.container_id,
                    ready.error().message());
      command_outcome failed{command_outcome::kind::error, 0, ready.error().message(), {}};
      co_await client.finish(failed);
      co_return;
    }
    output_sink to_stdout = [&](std::string_view d) { return client.send_stdout(d); };
    output_sink to_stderr = [&](std::string_view d) { return client.send_stderr(d); };
    auto pump = [&](int fd, const output_sink& sink) -> reactor::task<void> {
      co_await pump_output(fd, sink, pumps.stop);
      pumps.one_done();
    };
    auto run = [&]() -> reactor::task<void> {
      auto done = co_await ctx.keeper->exec(target->spec, stdio->child, std::chrono::milliseconds(0),
                                            hangup_read.get());
      // The command has exited; our copies of its ends would keep the
      // pumps from ever reaching end of file.
      stdio->theirs.clear();
      hangup_read.reset();
      co_await pumps.drain(2);
      if (!done) {
        outcome = {command_outcome::kind::error, 0,
                   fmt::format("error executing command in container: {}", done.error().message()), {}};
      } else if (done->exit_code != 0) {
        outcome = {command_outcome::kind::exit_code, done->exit_code, {}, fmt::format("{}", req.cmd)};
      }
    };
    co_await io::when_all(run(), pump(stdio->out.get(), to_stdout), pump(stdio->err.get(), to_stderr));
    spdlog::debug("msg=\"exec over stream ended\" container={} exit_code={} client_left={}",
                  req.container_id, outcome.exit_code, client_left);
    co_await client.finish(outcome);
  };
  co_await io::when_all(client.run(input), body());
}

}  // namespace ringcri::cri::streaming
