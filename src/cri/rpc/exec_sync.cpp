#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/sys/pipe.hpp"
#include "cri/exec_target.hpp"
#include "cri/keeper_link.hpp"
#include "cri/rpc/handlers.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"

namespace ringcri::cri::rpc {

namespace io = reactor;

namespace {

// ExecSync's output is for probes and short commands; past this the rest
// is read and dropped so the command never blocks on a full pipe.
constexpr std::size_t max_output = 16u << 20;

// Reads until end of file, or until the readers are stopped.
task<std::string> read_until_eof(int fd, output_readers& readers) {
  std::string out;
  std::array<std::byte, 16384> buf;
  for (;;) {
    auto n = co_await io::read(fd, buf).with_cancel(readers.stop);
    if (!n || *n == 0) break;
    if (out.size() < max_output)
      out.append(reinterpret_cast<const char*>(buf.data()), std::min<std::size_t>(*n, max_output - out.size()));
  }
  readers.one_done();
  co_return out;
}

}  // namespace

// Runs the command in the container's namespaces, cgroup and rootfs as the
// container's user, and returns its output and exit code. A timeout kills
// it and answers DEADLINE_EXCEEDED.
task<result<void>> exec_sync(context& ctx, const v1::ExecSyncRequest& req, v1::ExecSyncResponse& resp) {
  std::vector<std::string> cmd(req.cmd().begin(), req.cmd().end());
  auto target = exec_target_for(ctx, req.container_id(), cmd);
  if (!target) co_return tl::unexpected(target.error());
  const auto& spec = target->spec;
  const auto& container_id = target->container_id;

  auto out = sys::make_pipe();
  if (!out) co_return tl::unexpected(std::move(out.error()).context("pipe for exec stdout"));
  auto err = sys::make_pipe();
  if (!err) co_return tl::unexpected(std::move(err.error()).context("pipe for exec stderr"));
  unique_fd out_r = std::move(out->read), out_w = std::move(out->write);
  unique_fd err_r = std::move(err->read), err_w = std::move(err->write);

  exec::stdio_fds stdio;
  stdio.out = out_w.get();
  stdio.err = err_w.get();
  auto timeout = std::chrono::milliseconds(req.timeout() * 1000);

  // The readers see end of file only once our write ends are closed too,
  // which is right after the command exited.
  output_readers readers;
  auto run = [&]() -> task<result<exec::keeper::exec_result>> {
    auto done = co_await ctx.keeper->exec(spec, stdio, timeout);
    out_w.reset();
    err_w.reset();
    co_await readers.drain(2);
    co_return done;
  };
  auto [done, stdout_text, stderr_text] =
      co_await io::when_all(run(), read_until_eof(out_r.get(), readers), read_until_eof(err_r.get(), readers));
  if (!done) co_return tl::unexpected(done.error().context(fmt::format("exec {} in container \"{}\"", cmd, container_id)));
  if (done->timed_out)
    co_return fail(error_kind::deadline_exceeded,
                   fmt::format("exec {} in container \"{}\": timed out after {} s", cmd, container_id, req.timeout()));
  resp.set_stdout(std::move(stdout_text));
  resp.set_stderr(std::move(stderr_text));
  resp.set_exit_code(done->exit_code);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
