#include "stream/spdy_session.hpp"

#include <sys/socket.h>

#include <array>
#include <type_traits>
#include <variant>

#include <spdlog/spdlog.h>

#include "stream/linger.hpp"
#include "reactor/ops.hpp"

namespace ringcri::stream {

namespace io = reactor;

spdy_session::spdy_session(int fd, std::string already_read)
    : fd_(fd), pending_(std::move(already_read)), writer_(fd) {}

reactor::task<result<void>> spdy_session::send_frame(const spdy::frame& f) {
  // Encoded and queued without suspending in between: the header
  // compression context must see frames in the order they are sent.
  std::string bytes;
  encoder_.encode(f, bytes);
  co_return co_await writer_.send(std::move(bytes));
}

reactor::task<result<void>> spdy_session::send_data(std::uint32_t stream_id, std::string_view data, bool fin) {
  spdy::data d;
  d.stream_id = stream_id;
  d.fin = fin;
  d.payload.assign(data);
  spdy::frame f = std::move(d);
  co_return co_await send_frame(f);
}

reactor::task<result<void>> spdy_session::reset(std::uint32_t stream_id, std::uint32_t status) {
  spdy::rst_stream r;
  r.stream_id = stream_id;
  r.status = status;
  spdy::frame f = r;
  co_return co_await send_frame(f);
}

reactor::task<void> spdy_session::close() {
  if (closed_) co_return;
  closed_ = true;
  spdy::goaway g;
  g.last_good_stream_id = last_stream_id_;
  spdy::frame f = g;
  (void)co_await send_frame(f);
  (void)co_await writer_.flush();
  co_await linger(fd_, reading_done_, reading_changed_);
}

reactor::task<result<void>> spdy_session::run(handler& h) {
  reading_guard guard{reading_done_, reading_changed_};
  if (!pending_.empty()) decoder_.feed(pending_);
  pending_.clear();
  std::array<std::byte, 32768> buf;
  for (;;) {
    // Every complete frame first, then read more.
    for (;;) {
      auto next = decoder_.next();
      if (!next) {
        spdlog::debug("msg=\"streaming client broke SPDY\" error=\"{}\"", next.error().message());
        co_return tl::unexpected(next.error());
      }
      if (!*next) break;
      spdy::frame f = std::move(**next);
      if (auto* syn = std::get_if<spdy::syn_stream>(&f)) {
        last_stream_id_ = std::max(last_stream_id_, syn->stream_id);
        if (h.on_stream(*syn)) {
          spdy::syn_reply reply;
          reply.stream_id = syn->stream_id;
          spdy::frame rf = std::move(reply);
          (void)co_await send_frame(rf);
          if (syn->fin) h.on_end(syn->stream_id);
        } else {
          (void)co_await reset(syn->stream_id, 3 /* REFUSED_STREAM */);
        }
      } else if (auto* d = std::get_if<spdy::data>(&f)) {
        if (!d->payload.empty()) co_await h.on_data(d->stream_id, d->payload);
        if (d->fin) h.on_end(d->stream_id);
      } else if (auto* hd = std::get_if<spdy::headers>(&f)) {
        if (hd->fin) h.on_end(hd->stream_id);
      } else if (auto* rst = std::get_if<spdy::rst_stream>(&f)) {
        h.on_reset(rst->stream_id);
      } else if (auto* p = std::get_if<spdy::ping>(&f)) {
        spdy::frame pong = *p;
        (void)co_await send_frame(pong);
      } else if (std::holds_alternative<spdy::goaway>(f)) {
        co_return result<void>{};
      }
      // SETTINGS, WINDOW_UPDATE, SYN_REPLY: nothing to do.
    }
    auto n = co_await io::recv(fd_, buf);
    if (!n) co_return fail_errno(n.error().value(), "read from the streaming client");
    if (*n == 0) co_return result<void>{};
    decoder_.feed(std::string_view(reinterpret_cast<const char*>(buf.data()), *n));
  }
}

}  // namespace ringcri::stream
