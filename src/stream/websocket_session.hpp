#pragma once
// A WebSocket connection after the upgrade, server side, in Kubernetes'
// channel framing: every message starts with its channel number (one
// byte; an ASCII digit with the payload in base64 for the base64.*
// subprotocols).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "stream/socket_writer.hpp"
#include "reactor/condition.hpp"
#include "stream/websocket/connection.hpp"
#include "reactor/task.hpp"

namespace ringcri::stream {

class websocket_session {
 public:
  class handler {
   public:
    virtual ~handler() = default;
    // A message for `channel`, payload decoded. Waiting here holds back
    // further reads.
    virtual reactor::task<void> on_message(std::uint8_t channel, std::string_view data) = 0;
  };

  // `fd` stays owned by the caller.
  websocket_session(int fd, std::string already_read, bool base64);

  // Reads until the client closes or breaks the protocol.
  reactor::task<result<void>> run(handler& h);
  reactor::task<result<void>> send(std::uint8_t channel, std::string_view data);
  // A close frame (1000), everything written, the socket shut down.
  reactor::task<void> close();

 private:
  reactor::task<result<void>> flush_output();

  int fd_;
  std::string pending_;
  bool base64_;
  websocket::connection conn_;
  socket_writer writer_;
  bool closed_ = false;
  bool reading_done_ = false;  // run() returned
  reactor::condition reading_changed_;
};

}  // namespace ringcri::stream
