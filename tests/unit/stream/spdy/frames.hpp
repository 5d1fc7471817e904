#pragma once
// Helpers shared by the SPDY codec tests: hex vectors and draining a
// decoder.

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "stream/spdy/decoder.hpp"
#include "stream/spdy/encoder.hpp"

namespace ringcri::stream::spdy::testing {

inline std::string from_hex(std::string_view hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return bytes;
}

inline std::string encode_all(encoder& enc, const std::vector<frame>& frames) {
  std::string out;
  for (const auto& f : frames) enc.encode(f, out);
  return out;
}

// Every frame the decoder yields until it wants more bytes; fails the
// test on a decode error.
inline std::vector<frame> drain(decoder& dec) {
  std::vector<frame> frames;
  for (;;) {
    auto next = dec.next();
    REQUIRE(next.has_value());
    if (!*next) return frames;
    frames.push_back(std::move(**next));
  }
}

}  // namespace ringcri::stream::spdy::testing
