// attach and close_stdin: the daemon's live view of a running container's
// stdio (CRI Attach). The pumps copy each output chunk to every attachment
// (server_process.cpp); input goes straight to the container's stdin pipe
// or pty master, through a dup the daemon writes itself.

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "base/sys/pipe.hpp"
#include "exec/keeper/protocol.hpp"
#include "exec/keeper/server.hpp"

namespace ringcri::exec::keeper {

using nlohmann::json;

namespace {

// Room for a burst of output while the daemon is busy elsewhere; an
// attacher that falls further behind is dropped, never waited for.
constexpr int attachment_pipe_size = 1 << 20;

// The read end is the daemon's; the write end the pump's, which must
// never wait for a slow attacher.
result<sys::pipe_fds> make_attachment_pipe() {
  auto p = sys::make_pipe(sys::nonblocking_end::write);
  if (!p) return tl::unexpected(std::move(p.error()).context("attach pipe"));
  // The default size is fine too, only less forgiving.
  (void)::fcntl(p->write.get(), F_SETPIPE_SZ, attachment_pipe_size);
  return p;
}

result<unique_fd> dup_input(int fd) {
  int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) return fail_errno(errno, "dup the container's input");
  return unique_fd(d);
}

}  // namespace

result<server::response> server::do_attach(const json& args) {
  auto id = protocol::string_arg(args, "container");
  if (!id) return tl::unexpected(std::move(id.error()));
  auto held = find_held(*id);
  if (!held) return tl::unexpected(std::move(held.error()));
  process_ptr c = *held;
  if (c->pod_init || !c->started || c->exited) {
    return fail(error_kind::failed_precondition,
                fmt::format("attach: container {} is not running", *id));
  }

  // Everything is made before anything is handed to the pumps, so a
  // failure half-way leaves no attachment behind.
  json names = json::array();
  std::vector<unique_fd> fds;
  auto out = make_attachment_pipe();
  if (!out) return tl::unexpected(std::move(out.error()).context("attach to " + *id));
  std::optional<sys::pipe_fds> err;
  if (!c->tty) {
    auto e = make_attachment_pipe();
    if (!e) return tl::unexpected(std::move(e.error()).context("attach to " + *id));
    err = std::move(*e);
  }
  // A tty takes input and resizes on its master (stdout_read).
  int input = c->tty ? (c->stdin_open ? c->stdout_read.get() : -1) : c->stdin_write.get();
  if (input >= 0) {
    auto in = dup_input(input);
    if (!in) return tl::unexpected(std::move(in.error()).context("attach to " + *id));
    names.push_back("in");
    fds.push_back(std::move(*in));
  }
  if (c->tty && c->stdout_read) {
    auto terminal = dup_input(c->stdout_read.get());
    if (!terminal) return tl::unexpected(std::move(terminal.error()).context("attach to " + *id));
    names.push_back("terminal");
    fds.push_back(std::move(*terminal));
  }

  // A stream whose pump already ended gets no write end: the daemon reads
  // end of file at once, as it would a moment later.
  if (!c->out_ended) c->out_attachments.push_back(std::move(out->write));
  names.push_back("out");
  fds.push_back(std::move(out->read));
  if (err) {
    if (!c->err_ended) c->err_attachments.push_back(std::move(err->write));
    names.push_back("err");
    fds.push_back(std::move(err->read));
  }
  spdlog::debug("msg=\"attached\" container={} tty={} attachments={}", c->id, c->tty,
                c->out_attachments.size());
  response r;
  r.packets.emplace_back(json{{"tty", c->tty}, {"fds", std::move(names)}}, std::move(fds));
  return r;
}

result<server::response> server::do_close_stdin(const json& args) {
  auto id = protocol::string_arg(args, "container");
  if (!id) return tl::unexpected(std::move(id.error()));
  auto held = find_held(*id);
  if (!held) return tl::unexpected(std::move(held.error()));
  process_ptr c = *held;
  response r;
  r.packets.emplace_back(json::object(), std::vector<unique_fd>{});
  if (!c->stdin_open) return r;
  c->stdin_open = false;
  if (!c->tty) {
    // The container reads EOF once the daemon's dups are closed as well.
    c->stdin_write.reset();
    return r;
  }
  // A pty has no end of its input short of hanging up its process: the
  // terminal's EOF character ends a read the way a closed pipe does.
  if (c->exited || !c->stdout_read) return r;
  ssize_t n;
  do {
    n = ::write(c->stdout_read.get(), "\x04", 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1)
    return fail_errno(errno, fmt::format("close_stdin: write EOF to the terminal of {}", *id));
  return r;
}

}  // namespace ringcri::exec::keeper
