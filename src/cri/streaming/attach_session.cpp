// Attach over the streaming server: the container's own stdio, which the
// keeper holds, fanned out to this client from now on.

#include <sys/ioctl.h>
#include <unistd.h>

#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cri/exec_target.hpp"
#include "cri/keeper_link.hpp"
#include "stream/output_pump.hpp"
#include "cri/streaming/sessions.hpp"
#include "reactor/condition.hpp"
#include "reactor/ops.hpp"
#include "reactor/when_all.hpp"

namespace ringcri::cri::streaming {

// The streaming protocols this session speaks.
using namespace ::ringcri::stream;

namespace io = reactor;

reactor::task<void> serve_attach(context& ctx, const attach_request& req, command_client& client) {
  auto record = running_container(ctx, req.container_id);
  if (!record) {
    command_outcome failed{command_outcome::kind::error, 0, record.error().message(), {}};
    co_await client.finish(failed);
    co_return;
  }
  const std::string id = record->id();
  bool stdin_once = record->config().stdin_once();

  io::cancellation stop;  // the client left: stop reading the container's output
  io::condition input_changed;
  bool stdin_ended = false;
  bool session_over = false;
  keeper::attached fds;

  command_input input;
  bool attach_done = false;  // input that comes before the keeper attached waits
  input.stdin_data = [&](std::string_view data) -> reactor::task<void> {
    while (!attach_done && !stop.cancelled()) co_await input_changed.wait();
    if (!req.stdin || !fds.in) co_return;
    auto written = co_await write_all(fds.in.get(), data);
    if (!written) fds.in.reset();
  };
  input.stdin_end = [&] {
    stdin_ended = true;
    input_changed.notify_all();
  };
  // A size that comes before the keeper attached is applied once it has.
  std::optional<terminal_size> early_size;
  auto apply_size = [&](terminal_size size) {
    winsize ws{};
    ws.ws_col = size.width;
    ws.ws_row = size.height;
    ::ioctl(fds.terminal.get(), TIOCSWINSZ, &ws);
  };
  input.resize = [&](terminal_size size) {
    if (!attach_done) early_size = size;
    else if (fds.tty && fds.terminal) apply_size(size);
  };
  input.left = [&] {
    stop.cancel();
    input_changed.notify_all();
  };

  auto body = [&]() -> reactor::task<void> {
    auto ready = co_await client.ready();
    if (!ready) {
      attach_done = true;
      input_changed.notify_all();
      command_outcome failed{command_outcome::kind::error, 0, ready.error().message(), {}};
      co_await client.finish(failed);
      co_return;
    }
    auto attached = co_await ctx.keeper->attach(id);
    attach_done = true;
    input_changed.notify_all();
    if (!attached) {
      command_outcome failed{command_outcome::kind::error, 0, attached.error().message(), {}};
      co_await client.finish(failed);
      co_return;
    }
    fds = std::move(*attached);
    if (!req.stdin) fds.in.reset();
    if (early_size && fds.tty && fds.terminal) apply_size(*early_size);

    // With stdin_once, the client's end of input is the container's.
    auto close_input = [&]() -> reactor::task<void> {
      std::function<bool()> done = [&] { return stdin_ended || session_over || stop.cancelled(); };
      while (!done()) co_await input_changed.wait();
      if (stdin_ended && stdin_once) {
        fds.in.reset();
        (void)co_await ctx.keeper->close_stdin(id);
      }
    };
    output_sink to_stdout = [&](std::string_view d) { return client.send_stdout(d); };
    output_sink to_stderr = [&](std::string_view d) { return client.send_stderr(d); };
    auto outputs = [&]() -> reactor::task<void> {
      co_await io::when_all(pump_output(fds.out.get(), to_stdout, stop), pump_output(fds.err.get(), to_stderr, stop));
      // End of file on both: the container exited (or the client left).
      session_over = true;
      input_changed.notify_all();
    };
    co_await io::when_all(outputs(), close_input());
    // Detach: our ends closed, the keeper drops this attachment on its next
    // write. The first client to detach from a stdin_once container ends
    // its input.
    fds.out.reset();
    fds.err.reset();
    fds.in.reset();
    fds.terminal.reset();
    if (stdin_once && !stdin_ended) (void)co_await ctx.keeper->close_stdin(id);
    command_outcome success;
    co_await client.finish(success);
  };
  co_await io::when_all(client.run(input), body());
  spdlog::debug("msg=\"attach ended\" container={}", id);
}

}  // namespace ringcri::cri::streaming
