#pragma once
// A SPDY/3.1 connection after the upgrade, server side, as kubelet's
// clients (moby/spdystream) speak it: the client opens every stream with
// SYN_STREAM (its kind in the `streamtype` header), we accept with
// SYN_REPLY, and each side half-closes a stream with FIN. No flow control:
// spdystream neither sends nor honours WINDOW_UPDATE.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "stream/socket_writer.hpp"
#include "reactor/condition.hpp"
#include "stream/spdy/frame.hpp"
#include "stream/spdy/decoder.hpp"
#include "stream/spdy/encoder.hpp"
#include "reactor/task.hpp"

namespace ringcri::stream {

class spdy_session {
 public:
  // What the connection's user is told, from the read loop. A handler that
  // waits (stdin into a full pipe) holds back the reading of further frames.
  class handler {
   public:
    virtual ~handler() = default;
    // A new stream from the client; return false to refuse it (RST_STREAM).
    virtual bool on_stream(const spdy::syn_stream& syn) = 0;
    virtual reactor::task<void> on_data(std::uint32_t stream_id, std::string_view data) = 0;
    // The client half-closed the stream (FIN) or reset it.
    virtual void on_end(std::uint32_t stream_id) = 0;
    virtual void on_reset(std::uint32_t stream_id) = 0;
  };

  // `fd` stays owned by the caller. `already_read` is what came after the
  // HTTP head.
  spdy_session(int fd, std::string already_read);

  // Reads frames until the client closes the connection, sends GOAWAY, or
  // breaks the protocol. Returns why it ended (ok: closed cleanly).
  reactor::task<result<void>> run(handler& h);

  reactor::task<result<void>> send_data(std::uint32_t stream_id, std::string_view data, bool fin = false);
  reactor::task<result<void>> reset(std::uint32_t stream_id, std::uint32_t status);
  // GOAWAY, everything written, then the socket shut down both ways so run()
  // returns.
  reactor::task<void> close();

  socket_writer& writer() noexcept { return writer_; }

 private:
  reactor::task<result<void>> send_frame(const spdy::frame& f);

  int fd_;
  std::string pending_;
  spdy::decoder decoder_;
  spdy::encoder encoder_;
  socket_writer writer_;
  std::uint32_t last_stream_id_ = 0;
  bool closed_ = false;
  bool reading_done_ = false;  // run() returned
  reactor::condition reading_changed_;
};

}  // namespace ringcri::stream
