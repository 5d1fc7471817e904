#include "image/unpack/gzip_header_reader.hpp"

#include <fmt/format.h>
#include <isa-l/crc.h>

#include <algorithm>
#include <cstring>

namespace ringcri::image {

namespace {

constexpr std::uint8_t flag_hcrc = 0x02;
constexpr std::uint8_t flag_extra = 0x04;
constexpr std::uint8_t flag_name = 0x08;
constexpr std::uint8_t flag_comment = 0x10;
constexpr std::uint8_t flags_reserved = 0xe0;

tl::unexpected<error> bad(std::string_view why) {
  return fail(error_kind::invalid_argument, fmt::format("invalid gzip header: {}", why));
}

}  // namespace

// The parts come in this order, each only when its flag says so:
// fixed, extra_length, extra, name, comment, header_crc.
result<void> gzip_header_reader::after(step finished) {
  have_ = 0;
  if (finished == step::fixed) {
    if (buf_[0] != 0x1f || buf_[1] != 0x8b) return bad("no gzip magic");
    if (buf_[2] != 8) return bad(fmt::format("compression method {}, not deflate", buf_[2]));
    flags_ = buf_[3];
    if (flags_ & flags_reserved) return bad("reserved flag bits set");
  }
  auto still_ahead = [&](step s) { return finished < s; };
  if (finished == step::fixed && (flags_ & flag_extra))
    step_ = step::extra_length;
  else if (finished == step::extra_length && skip_ > 0)
    step_ = step::extra;
  else if (still_ahead(step::name) && (flags_ & flag_name))
    step_ = step::name;
  else if (still_ahead(step::comment) && (flags_ & flag_comment))
    step_ = step::comment;
  else if (still_ahead(step::header_crc) && (flags_ & flag_hcrc))
    step_ = step::header_crc;
  else
    step_ = step::done;
  return {};
}

result<std::size_t> gzip_header_reader::read(std::span<const std::byte> input) {
  const auto* in = reinterpret_cast<const std::uint8_t*>(input.data());
  std::size_t pos = 0;
  auto crc = [&](std::size_t from, std::size_t n) { crc_ = crc32_gzip_refl(crc_, in + from, n); };
  while (pos < input.size() && step_ != step::done) {
    std::size_t left = input.size() - pos;
    switch (step_) {
      case step::fixed:
      case step::extra_length:
      case step::header_crc: {
        std::size_t want = step_ == step::fixed ? 10 : 2;
        std::size_t take = std::min(want - have_, left);
        std::memcpy(buf_.data() + have_, in + pos, take);
        if (step_ != step::header_crc) crc(pos, take);
        have_ += take;
        pos += take;
        if (have_ < want) break;
        if (step_ == step::extra_length) skip_ = buf_[0] | buf_[1] << 8;
        if (step_ == step::header_crc &&
            static_cast<std::uint32_t>(buf_[0] | buf_[1] << 8) != (crc_ & 0xffff))
          return bad("header CRC mismatch");
        if (auto r = after(step_); !r) return tl::unexpected(r.error());
        break;
      }
      case step::extra: {
        std::size_t take = std::min(skip_, left);
        crc(pos, take);
        pos += take;
        skip_ -= take;
        if (skip_ == 0)
          if (auto r = after(step::extra); !r) return tl::unexpected(r.error());
        break;
      }
      case step::name:
      case step::comment: {
        const auto* nul = static_cast<const std::uint8_t*>(std::memchr(in + pos, 0, left));
        std::size_t take = nul ? static_cast<std::size_t>(nul - (in + pos)) + 1 : left;
        crc(pos, take);
        pos += take;
        if (nul)
          if (auto r = after(step_); !r) return tl::unexpected(r.error());
        break;
      }
      case step::done:
        break;
    }
  }
  return pos;
}

}  // namespace ringcri::image
