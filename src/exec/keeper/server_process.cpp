// A held process's life in the keeper: the spawn report, the output pumps
// that turn its pipes into CRI log lines (and copy them to attachments),
// and its exit (reap, drain the pipes, record, announce).

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "base/crash_point.hpp"
#include "exec/keeper/exit_record.hpp"
#include "exec/keeper/protocol.hpp"
#include "exec/keeper/server.hpp"
#include "reactor/ops.hpp"

namespace ringcri::exec::keeper {

namespace io = ringcri::reactor;

reactor::task<result<exec::report>> server::await_report(int report_fd) {
  for (;;) {
    auto r = exec::read_report(report_fd);
    if (!r) co_return tl::unexpected(std::move(r.error()));
    if (r->kind != exec::report_kind::not_yet) co_return std::move(*r);
    // The child writes or exits: one of them always comes.
    auto ready = co_await io::poll(report_fd, POLLIN);
    if (!ready) co_return fail_errno(ready.error().value(), "wait for the spawn report");
  }
}

void server::start_watching(const process_ptr& c) {
  if (c->stdout_read) {
    ++c->pumps_running;
    start_task(pump(c, false));
  }
  if (c->stderr_read) {
    ++c->pumps_running;
    start_task(pump(c, true));
  }
  if (c->pumps_running == 0) {
    c->pumps_done.cancel();
    c->pumps_finished.set();
  }
  start_task(watch_exit(c));
}

reactor::task<void> server::pump(process_ptr c, bool is_stderr) {
  int fd = is_stderr ? c->stderr_read.get() : c->stdout_read.get();
  cri_log_stream& stream = is_stderr ? c->err : c->out;
  bool maybe_more = false;
  for (;;) {
    if (!maybe_more) {
      auto ready = co_await io::poll(fd, POLLIN).with_cancel(c->stop_pumps);
      if (!ready) break;  // given up on: something else holds the pipe open
    }
    ssize_t n = ::read(fd, read_buffer_.data(), read_buffer_.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        maybe_more = false;
        continue;
      }
      // A pty master reads EIO once every fd of its slave is closed.
      if (errno == EIO && c->tty) break;
      spdlog::warn("msg=\"cannot read container output\" container={} stream={} error=\"{}\"",
                   c->id, stream.name(), std::strerror(errno));
      break;
    }
    if (n == 0) break;
    maybe_more = static_cast<std::size_t>(n) == read_buffer_.size();
    std::string_view chunk(read_buffer_.data(), static_cast<std::size_t>(n));
    // Format now, while the shared buffer is ours; the lines own their bytes.
    std::string lines;
    stream.feed(chunk, rfc3339_nano(now_unix_ns()), lines);
    // The attachments get the chunk now too, with no copy: their writes
    // never wait, so the log never waits for an attacher.
    feed_attachments(c, is_stderr, chunk);
    co_await append_log(c, std::move(lines));
  }
  std::string tail;
  stream.finish(rfc3339_nano(now_unix_ns()), tail);
  // The daemon reads end of file: the stream, and so the container, ended.
  (is_stderr ? c->err_attachments : c->out_attachments).clear();
  (is_stderr ? c->err_ended : c->out_ended) = true;
  co_await append_log(c, std::move(tail));
  if (--c->pumps_running == 0) {
    c->pumps_done.cancel();
    c->pumps_finished.set();
  }
}

void server::feed_attachments(const process_ptr& c, bool is_stderr, std::string_view chunk) {
  auto& attachments = is_stderr ? c->err_attachments : c->out_attachments;
  for (auto it = attachments.begin(); it != attachments.end();) {
    ssize_t n;
    do {
      n = ::write(it->get(), chunk.data(), chunk.size());
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(chunk.size())) {
      ++it;
      continue;
    }
    // EPIPE: the daemon closed its end (a detach). EAGAIN or a short
    // write: it fell behind, and a gap in its copy would be worse than
    // an end of file.
    spdlog::debug("msg=\"attachment dropped\" container={} stream={} reason=\"{}\"", c->id,
                  is_stderr ? "stderr" : "stdout",
                  n < 0 ? std::strerror(errno) : "the reader fell behind");
    it = attachments.erase(it);
  }
}

reactor::task<void> server::append_log(process_ptr c, std::string lines) {
  if (lines.empty()) co_return;
  std::shared_ptr<unique_fd> log = c->log;
  if (!log || !*log) co_return;
  std::span<const std::byte> rest(reinterpret_cast<const std::byte*>(lines.data()), lines.size());
  while (!rest.empty()) {
    auto n = co_await io::write(log->get(), rest);
    if (!n) {
      spdlog::warn("msg=\"cannot write the container log\" container={} path={} error=\"{}\"",
                   c->id, c->log_path, n.error().message());
      co_return;
    }
    rest = rest.subspan(static_cast<std::size_t>(*n));
  }
}

reactor::task<void> server::watch_exit(process_ptr c) {
  siginfo_t info{};
  auto waited = co_await io::waitid(c->proc.pidfd.get(), &info);
  exit_status status;
  status.id = c->id;
  status.finished_at = now_unix_ns();
  if (!waited) {
    spdlog::error("msg=\"cannot wait for a container\" container={} pid={} error=\"{}\"", c->id,
                  c->proc.pid, waited.error().message());
    status.exit_code = 255;
  } else if (info.si_code == CLD_EXITED) {
    status.exit_code = info.si_status;
  } else {
    status.signal = info.si_status;
    status.exit_code = 128 + info.si_status;
  }

  // Its output until EOF, unless something else (a daemonized descendant)
  // keeps the pipes open: then what was read is all there is.
  if (c->pumps_running > 0) {
    co_await io::sleep_for(options_.drain_timeout).with_cancel(c->pumps_done);
    if (c->pumps_running > 0) {
      spdlog::info("msg=\"output still open after exit, closing it\" container={}", c->id);
      c->stop_pumps.cancel();
      co_await c->pumps_finished.wait();
    }
  }
  c->proc.pidfd.reset();
  c->proc.report.reset();
  c->proc.release.reset();
  c->stdout_read.reset();
  c->stderr_read.reset();
  c->stdin_write.reset();
  c->out_attachments.clear();
  c->err_attachments.clear();
  c->out_ended = c->err_ended = true;
  c->log.reset();
  c->exit = status;

  bool quiet = c->removed && !c->started;  // a removed container that never ran
  if (!quiet && !c->exit_path.empty()) {
    auto written = co_await write_exit_record(c->exit_path, status);
    if (!written) {
      spdlog::error("msg=\"cannot record an exit\" container={} error=\"{}\"", c->id,
                    written.error().message());
    }
  }
  c->exited = true;
  spdlog::info("msg=\"exited\" container={} pid={} exit_code={} signal={}", c->id, c->proc.pid,
               status.exit_code, status.signal);
  crash_point(point("keeper.after_exit_record"));
  if (!quiet) broadcast(protocol::exit_event(status));
  c->exit_done.set();
  check_idle();
}

}  // namespace ringcri::exec::keeper
