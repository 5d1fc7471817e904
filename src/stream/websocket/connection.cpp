#include "stream/websocket/connection.hpp"

#include <fmt/format.h>
#include <wslay/wslay.h>

#include <algorithm>
#include <deque>
#include <new>
#include <utility>

#include "base/sys/random.hpp"
#include "stream/websocket/control_frame_gate.hpp"

namespace ringcri::stream::websocket {
namespace {

// The most a close frame's reason can hold: 125 payload bytes less the code.
constexpr std::size_t max_close_reason = 123;

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool is_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p++;
    if (c < 0x80) continue;
    int more;
    unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      more = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      more = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (end - p < more || *p < lo || *p > hi) return false;
    ++p;
    for (int i = 1; i < more; ++i, ++p)
      if (*p < 0x80 || *p > 0xbf) return false;
  }
  return true;
}

std::string_view close_code_meaning(std::uint16_t code) {
  switch (code) {
    case WSLAY_CODE_PROTOCOL_ERROR:
      return "protocol error";
    case WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA:
      return "text that is not UTF-8";
    case WSLAY_CODE_MESSAGE_TOO_BIG:
      return "message over the size limit";
    default:
      return "protocol error";
  }
}

}  // namespace

struct connection::state {
  wslay_event_context_ptr ctx = nullptr;
  control_frame_gate gate;  // control frames reach wslay whole
  std::string_view input;   // what feed() let through and wslay has not read yet
  std::string output;
  std::deque<message> received;
  std::optional<error> failure;

  state() = default;
  state(const state&) = delete;
  state& operator=(const state&) = delete;
  ~state() {
    if (ctx != nullptr) wslay_event_context_free(ctx);
  }

  void fail(error_kind kind, std::string what) {
    if (!failure) failure.emplace(kind, "websocket: " + std::move(what));
  }

  // Frames everything queued into `output`; the send callback takes all of
  // it, so one call empties wslay's queue.
  void flush() {
    if (wslay_event_send(ctx) != 0) fail(error_kind::internal, "cannot frame output");
  }

  static ssize_t on_recv(wslay_event_context_ptr ctx, std::uint8_t* buf, std::size_t len, int,
                         void* user) {
    auto& s = *static_cast<state*>(user);
    if (s.input.empty()) {
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
    auto n = std::min(len, s.input.size());
    std::copy_n(s.input.data(), n, reinterpret_cast<char*>(buf));
    s.input.remove_prefix(n);
    return static_cast<ssize_t>(n);
  }

  static ssize_t on_send(wslay_event_context_ptr ctx, const std::uint8_t* data, std::size_t len,
                         int, void* user) {
    auto& s = *static_cast<state*>(user);
    try {
      s.output.append(reinterpret_cast<const char*>(data), len);
    } catch (const std::bad_alloc&) {
      wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
      return -1;
    }
    return static_cast<ssize_t>(len);
  }

  static int on_genmask(wslay_event_context_ptr, std::uint8_t* buf, std::size_t len, void*) {
    sys::random_bytes({reinterpret_cast<std::byte*>(buf), len});
    return 0;
  }

  // Cost: wslay has already gathered the message into one buffer; this is a
  // second copy into the message's string.
  static void on_message(wslay_event_context_ptr ctx, const wslay_event_on_msg_recv_arg* arg,
                         void* user) {
    auto& s = *static_cast<state*>(user);
    std::string_view payload(reinterpret_cast<const char*>(arg->msg), arg->msg_length);
    message m;
    m.op = static_cast<opcode>(arg->opcode);
    if (m.op == opcode::close) {
      m.close_code = arg->status_code;
      payload = payload.size() >= 2 ? payload.substr(2) : std::string_view{};
      // wslay checks a close reason's UTF-8 right only when the whole
      // frame comes in one read, which control_frame_gate sees to; checked
      // again here all the same: 1007, queued before wslay's own reply so
      // that one is not sent.
      if (!is_utf8(payload)) {
        wslay_event_queue_close(ctx, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, nullptr, 0);
        s.fail(error_kind::invalid_argument,
               "peer sent a close reason that is not UTF-8; closing with 1007");
        return;
      }
    }
    try {
      m.payload.assign(payload);
      s.received.push_back(std::move(m));
    } catch (const std::bad_alloc&) {
      s.fail(error_kind::resource_exhausted, "out of memory for a received message");
    }
  }
};

connection::connection(role r, std::size_t max_message) : state_(std::make_unique<state>()) {
  wslay_event_callbacks callbacks{};
  callbacks.recv_callback = &state::on_recv;
  callbacks.send_callback = &state::on_send;
  callbacks.genmask_callback = &state::on_genmask;
  callbacks.on_msg_recv_callback = &state::on_message;
  int rv = r == role::server
               ? wslay_event_context_server_init(&state_->ctx, &callbacks, state_.get())
               : wslay_event_context_client_init(&state_->ctx, &callbacks, state_.get());
  if (rv != 0) throw std::bad_alloc();  // wslay's only init failure is NOMEM
  // wslay buffers whole messages (its default) and enforces the limit on
  // the whole message, not per frame, only while buffering.
  wslay_event_config_set_max_recv_msg_length(state_->ctx, max_message);
}

connection::~connection() = default;
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;

result<void> connection::feed(std::string_view bytes) {
  auto& s = *state_;
  if (s.failure) return tl::unexpected(*s.failure);
  // Known before reading: once our own close went out, the code wslay sends
  // is ours, not the reason for a failure found now.
  bool we_closed = wslay_event_get_close_sent(s.ctx) != 0;
  s.input = s.gate.admit(bytes);
  int rv = wslay_event_recv(s.ctx);
  s.input = {};
  // wslay answers most violations by queueing a close and stopping reads
  // while still returning 0; a stop without the peer's close is one of them.
  bool violated = rv == 0 && wslay_event_get_read_enabled(s.ctx) == 0 &&
                  wslay_event_get_close_received(s.ctx) == 0;
  s.flush();  // pongs, the close reply, or the close for a violation
  if (rv == WSLAY_ERR_NOMEM) {
    s.fail(error_kind::resource_exhausted, "out of memory reading a frame");
  } else if (rv != 0) {
    // Our receive callback never fails, so wslay's frame parser refused the
    // bytes (a control frame over 125 bytes, a non-minimal length).
    s.fail(error_kind::invalid_argument, "malformed frame from the peer");
  } else if (violated) {
    if (we_closed) {
      s.fail(error_kind::invalid_argument, "peer broke the protocol after our close");
    } else {
      auto code = wslay_event_get_status_code_sent(s.ctx);
      s.fail(code == WSLAY_CODE_MESSAGE_TOO_BIG ? error_kind::resource_exhausted
                                                : error_kind::invalid_argument,
             fmt::format("peer sent a {}; closing with {}", close_code_meaning(code), code));
    }
  }
  if (s.failure) return tl::unexpected(*s.failure);
  return {};
}

std::optional<message> connection::next_message() {
  auto& received = state_->received;
  if (received.empty()) return std::nullopt;
  message m = std::move(received.front());
  received.pop_front();
  return m;
}

void connection::send(opcode op, std::string_view payload) {
  // Cost: wslay copies the payload into its queue, then frames it into
  // output; two copies per message.
  wslay_event_msg msg{static_cast<std::uint8_t>(op),
                      reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()};
  if (wslay_event_queue_msg(state_->ctx, &msg) == 0) state_->flush();
}

void connection::close(std::uint16_t code, std::string_view reason) {
  reason = reason.substr(0, max_close_reason);
  if (wslay_event_queue_close(state_->ctx, code,
                              reinterpret_cast<const std::uint8_t*>(reason.data()),
                              reason.size()) == 0) {
    state_->flush();
  }
}

std::string connection::take_output() { return std::exchange(state_->output, {}); }

bool connection::close_received() const { return wslay_event_get_close_received(state_->ctx) != 0; }

bool connection::close_sent() const { return wslay_event_get_close_sent(state_->ctx) != 0; }

bool connection::finished() const {
  return state_->failure.has_value() || (close_received() && close_sent());
}

}  // namespace ringcri::stream::websocket
