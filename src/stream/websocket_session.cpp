#include "stream/websocket_session.hpp"

#include <sys/socket.h>

#include <array>

#include <spdlog/spdlog.h>

#include "base/base64.hpp"
#include "stream/linger.hpp"
#include "reactor/ops.hpp"

namespace ringcri::stream {

namespace io = reactor;

websocket_session::websocket_session(int fd, std::string already_read, bool base64)
    : fd_(fd),
      pending_(std::move(already_read)),
      base64_(base64),
      conn_(websocket::connection::role::server),
      writer_(fd) {}

reactor::task<result<void>> websocket_session::flush_output() {
  auto out = conn_.take_output();
  if (out.empty()) co_return result<void>{};
  co_return co_await writer_.send(std::move(out));
}

reactor::task<result<void>> websocket_session::send(std::uint8_t channel, std::string_view data) {
  if (base64_) {
    std::string msg(1, static_cast<char>('0' + channel));
    msg += base64_encode(data);
    conn_.send(websocket::opcode::text, msg);
  } else {
    std::string msg(1, static_cast<char>(channel));
    msg.append(data);
    conn_.send(websocket::opcode::binary, msg);
  }
  co_return co_await flush_output();
}

reactor::task<void> websocket_session::close() {
  if (closed_) co_return;
  closed_ = true;
  conn_.close(1000);
  (void)co_await flush_output();
  (void)co_await writer_.flush();
  co_await linger(fd_, reading_done_, reading_changed_);
}

reactor::task<result<void>> websocket_session::run(handler& h) {
  reading_guard guard{reading_done_, reading_changed_};
  std::array<std::byte, 32768> buf;
  std::string input = std::move(pending_);
  for (;;) {
    if (!input.empty()) {
      auto fed = conn_.feed(input);
      input.clear();
      (void)co_await flush_output();  // pongs, the close reply
      if (!fed) {
        spdlog::debug("msg=\"streaming client broke WebSocket\" error=\"{}\"", fed.error().message());
        co_return tl::unexpected(fed.error());
      }
      while (auto msg = conn_.next_message()) {
        if (msg->op != websocket::opcode::binary && msg->op != websocket::opcode::text) continue;
        if (msg->payload.empty()) continue;
        std::uint8_t channel = static_cast<std::uint8_t>(msg->payload[0]);
        std::string_view payload(msg->payload);
        payload.remove_prefix(1);
        if (base64_) {
          channel = static_cast<std::uint8_t>(channel - '0');
          auto decoded = base64_decode(payload);
          if (!decoded) continue;  // not base64: dropped, as kubelet does
          co_await h.on_message(channel, *decoded);
        } else {
          co_await h.on_message(channel, payload);
        }
      }
      if (conn_.close_received() || conn_.finished()) co_return result<void>{};
    }
    auto n = co_await io::recv(fd_, buf);
    if (!n) co_return fail_errno(n.error().value(), "read from the streaming client");
    if (*n == 0) co_return result<void>{};
    input.assign(reinterpret_cast<const char*>(buf.data()), *n);
  }
}

}  // namespace ringcri::stream
