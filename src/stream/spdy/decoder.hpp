#pragma once
// Reads frames from one direction of a SPDY/3.1 connection. Sans-I/O: the
// caller feeds whatever bytes arrived and pulls whole frames. The decoder
// owns that direction's header inflate stream, so every byte the peer sent
// must pass through it in order.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "stream/spdy/frame.hpp"
#include "stream/spdy/header_compression.hpp"

namespace ringcri::stream::spdy {

class decoder {
 public:
  // The 24-bit length field keeps a frame just under this; the limit is
  // what a header block may inflate to, so a small block cannot expand
  // into gigabytes.
  static constexpr std::size_t max_frame_size = 16u << 20;

  decoder();
  ~decoder();
  decoder(decoder&&) noexcept;
  decoder& operator=(decoder&&) noexcept;

  // Appends received bytes.
  void feed(std::string_view bytes);

  // The next complete frame, or nullopt until more bytes arrive. Control
  // frames of unknown types are skipped. An error (wrong version, a header
  // block that does not inflate or overruns, a length that does not fit
  // the frame type) means the connection must be dropped; it repeats on
  // every later call.
  result<std::optional<frame>> next();

 private:
  result<std::optional<frame>> parse_control(std::uint16_t type, std::uint8_t flags,
                                             std::string_view body);

  std::string in_;            // received bytes, from the first unread frame on
  std::size_t consumed_ = 0;  // bytes of in_ already returned as frames
  header_inflater inflater_;
  std::optional<error> failure_;
};

}  // namespace ringcri::stream::spdy
