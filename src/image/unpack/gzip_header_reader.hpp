#pragma once
// The RFC 1952 member header, read in pieces of any size: magic, method,
// flags, then the optional extra field, file name, comment and header
// CRC-16 (checked). isa-l can parse headers itself, but isa-l 2.30 gets the
// header CRC wrong when the header arrives split over several calls, which
// a network stream may do anywhere; so the gzip decompressor reads headers
// here and hands isa-l only the deflate data and trailer.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.hpp"

namespace ringcri::image {

class gzip_header_reader {
 public:
  // Takes header bytes from the front of `input`; returns how many. The
  // header is complete once done(). INVALID_ARGUMENT for a bad header.
  result<std::size_t> read(std::span<const std::byte> input);
  bool done() const { return step_ == step::done; }
  // Ready for the next member's header.
  void reset() { *this = gzip_header_reader{}; }

 private:
  enum class step { fixed, extra_length, extra, name, comment, header_crc, done };
  result<void> after(step finished);

  step step_ = step::fixed;
  std::array<std::uint8_t, 10> buf_{};
  std::size_t have_ = 0;  // bytes of the current fixed-size part
  std::size_t skip_ = 0;  // extra field bytes left
  std::uint8_t flags_ = 0;
  std::uint32_t crc_ = 0;  // CRC-32 of the header so far
};

}  // namespace ringcri::image
