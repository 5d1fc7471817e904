#include "stream/websocket/control_frame_gate.hpp"

#include <algorithm>

namespace ringcri::stream::websocket {

namespace {

std::uint64_t big_endian(std::string_view bytes) {
  std::uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

}  // namespace

std::string_view control_frame_gate::admit(std::string_view bytes) {
  std::string_view data = bytes;
  if (!held_.empty()) {
    joined_ = std::move(held_);
    held_.clear();
    joined_.append(bytes);
    data = joined_;
  }
  if (opaque_) return data;

  std::size_t at = 0;
  while (at < data.size()) {
    if (payload_left_ > 0) {
      std::uint64_t n = std::min<std::uint64_t>(payload_left_, data.size() - at);
      at += n;
      payload_left_ -= n;
      continue;
    }
    // A frame header starts here (RFC 6455 5.2).
    std::string_view rest = data.substr(at);
    if (rest.size() < 2) break;
    bool control = (static_cast<unsigned char>(rest[0]) & 0x08) != 0;
    auto second = static_cast<unsigned char>(rest[1]);
    unsigned len7 = second & 0x7f;
    if (control && len7 > 125) {
      // Not a frame wslay takes: it refuses it as soon as it reads it.
      opaque_ = true;
      return data;
    }
    std::size_t extended = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    std::size_t header = 2 + extended + ((second & 0x80) != 0 ? 4 : 0);
    if (rest.size() < header) break;
    std::uint64_t length = extended == 0 ? len7 : big_endian(rest.substr(2, extended));
    if (control && rest.size() < header + length) break;
    at += header;
    payload_left_ = length;
  }
  held_.assign(data.substr(at));
  return data.substr(0, at);
}

}  // namespace ringcri::stream::websocket
