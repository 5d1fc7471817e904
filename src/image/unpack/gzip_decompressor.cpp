#include "image/unpack/gzip_decompressor.hpp"

#include <fmt/format.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "image/unpack/gzip_header_reader.hpp"

namespace ringcri::image {

namespace {

// Output handed downstream per isal_inflate call. 128 KiB keeps the tar
// parser's per-call cost negligible and stays in L2.
constexpr std::size_t out_size = 128 * 1024;

std::string_view describe(int code) {
  switch (code) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "CRC-32 or length mismatch";
    case ISAL_NEED_DICT:
      return "needs a preset dictionary";
    default:
      return "isa-l inflate error";
  }
}

class gzip_decompressor final : public decompressor {
 public:
  gzip_decompressor() : state_(std::make_unique<inflate_state>()), out_(out_size) {}

  result<void> feed(std::span<const std::byte> input, byte_sink out) override {
    while (!input.empty()) {
      if (phase_ == phase::between_members) {
        auto first = std::to_integer<unsigned>(input[0]);
        if (first == 0x1f) {
          start_member();
        } else if (first == 0) {
          phase_ = phase::zero_padding;
        } else {
          return fail(error_kind::invalid_argument,
                      fmt::format("corrupt gzip stream: garbage after member {} at compressed "
                                  "byte {}",
                                  members_, consumed_));
        }
      }
      if (phase_ == phase::zero_padding) {
        auto nonzero =
            std::find_if(input.begin(), input.end(), [](std::byte b) { return b != std::byte{0}; });
        if (nonzero != input.end())
          return fail(error_kind::invalid_argument,
                      fmt::format("corrupt gzip stream: garbage after zero padding at "
                                  "compressed byte {}",
                                  consumed_ + (nonzero - input.begin())));
        consumed_ += input.size();
        return {};
      }
      if (phase_ == phase::header) {
        auto taken = header_.read(input);
        if (!taken)
          return fail(error_kind::invalid_argument,
                      fmt::format("corrupt gzip stream at compressed byte {}: {}", consumed_,
                                  taken.error().message()));
        consumed_ += *taken;
        input = input.subspan(*taken);
        if (header_.done()) {
          // Deflate data and trailer: isa-l inflates, then checks the
          // trailer's CRC-32 and length.
          isal_inflate_init(state_.get());
          state_->crc_flag = ISAL_GZIP_NO_HDR_VER;
          phase_ = phase::body;
        }
        continue;
      }
      auto taken = inflate_some(input, out);
      if (!taken) return tl::unexpected(taken.error());
      input = input.subspan(*taken);
    }
    return {};
  }

  result<void> finish(byte_sink) override {
    if (phase_ == phase::header || phase_ == phase::body)
      return fail(error_kind::invalid_argument,
                  fmt::format("truncated gzip stream: input ends inside member {} after {} "
                              "compressed bytes",
                              members_ + 1, consumed_));
    return {};
  }

  compression kind() const override { return compression::gzip; }

 private:
  enum class phase { header, body, between_members, zero_padding };

  void start_member() {
    header_.reset();
    phase_ = phase::header;
  }

  // Inflates from the start of `input` until it is used up or the member
  // ends; returns how many bytes it took.
  result<std::size_t> inflate_some(std::span<const std::byte> input, byte_sink out) {
    auto* in = const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(input.data()));
    state_->next_in = in;
    state_->avail_in = static_cast<std::uint32_t>(
        std::min<std::size_t>(input.size(), std::numeric_limits<std::uint32_t>::max()));
    for (;;) {
      state_->next_out = reinterpret_cast<std::uint8_t*>(out_.data());
      state_->avail_out = static_cast<std::uint32_t>(out_.size());
      std::uint32_t avail_in_before = state_->avail_in;
      int code = isal_inflate(state_.get());
      std::size_t produced = out_.size() - state_->avail_out;
      std::size_t taken_now = avail_in_before - state_->avail_in;
      if (code != ISAL_DECOMP_OK)
        return fail(error_kind::invalid_argument,
                    fmt::format("corrupt gzip stream at compressed byte {}: {}",
                                consumed_ + (state_->next_in - in), describe(code)));
      if (produced > 0)
        if (auto r = out(std::span<const std::byte>(out_.data(), produced)); !r)
          return tl::unexpected(r.error());
      if (state_->block_state == ISAL_BLOCK_FINISH) {
        ++members_;
        phase_ = phase::between_members;
        break;
      }
      if (state_->avail_out > 0 && state_->avail_in == 0) break;  // wants more input
      if (produced == 0 && taken_now == 0)
        return fail(error_kind::internal, fmt::format("gzip decoder stalled at compressed byte {}",
                                                      consumed_ + (state_->next_in - in)));
    }
    std::size_t taken = state_->next_in - in;
    consumed_ += taken;
    return taken;
  }

  std::unique_ptr<inflate_state> state_;  // ~50 KiB: on the heap
  std::vector<std::byte> out_;
  gzip_header_reader header_;
  phase phase_ = phase::header;
  std::uint64_t members_ = 0;   // members completed
  std::uint64_t consumed_ = 0;  // compressed bytes taken
};

}  // namespace

std::unique_ptr<decompressor> make_gzip_decompressor() {
  return std::make_unique<gzip_decompressor>();
}

}  // namespace ringcri::image
