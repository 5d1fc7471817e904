#pragma once
// One WebSocket connection after the HTTP upgrade, sans I/O: the owner
// reads the socket and feed()s the bytes, takes whole messages out with
// next_message(), and writes whatever take_output() returns. Framing,
// masking, ping answers and the close handshake are wslay's (RFC 6455).
//
// Not thread-safe; one reactor owns it. Movable (the wslay context lives
// behind a pointer, so moving never invalidates wslay's user data); a
// moved-from connection may only be destroyed or assigned to.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace ringcri::stream::websocket {

enum class opcode : std::uint8_t { text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

struct message {
  opcode op = opcode::binary;
  // For close: the reason only (the status code is in close_code).
  std::string payload;
  std::uint16_t close_code = 0;  // close only; 0 when the peer sent none
};

class connection {
 public:
  // A client masks its frames; a server refuses unmasked ones.
  enum class role { server, client };

  explicit connection(role r, std::size_t max_message = 16u << 20);
  ~connection();
  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Bytes read from the socket; any amount, split anywhere. Complete
  // messages (pings, pongs and the peer's close too) go to next_message();
  // a ping's pong and the reply to a close are queued for output here. A
  // peer breaking the protocol (unmasked frame to a server, masked frame to
  // a client, unknown opcode, a message over max_message, text that is not
  // UTF-8) is an error, and a close frame saying why is queued. After an
  // error every feed() returns it again; after the peer's close, further
  // bytes are ignored.
  result<void> feed(std::string_view bytes);
  std::optional<message> next_message();

  // Queue a message / our close (the reason is cut to the 123 bytes a close
  // frame can hold; code 0 sends a close with no status). Dropped once a
  // close was queued or after an error, and a control payload over 125
  // bytes is dropped: it cannot be framed.
  void send(opcode op, std::string_view payload);
  void close(std::uint16_t code, std::string_view reason = {});

  // The framed bytes to write to the socket now; empty when none.
  std::string take_output();

  bool close_received() const;
  bool close_sent() const;
  // Nothing more will be read or written: both close frames went by, or an
  // error. take_output() may still hold the last bytes (our close).
  bool finished() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace ringcri::stream::websocket
