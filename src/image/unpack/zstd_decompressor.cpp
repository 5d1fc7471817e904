#include "image/unpack/zstd_decompressor.hpp"

#include <fmt/format.h>
#include <zstd.h>

#include <cstdint>
#include <vector>

namespace ringcri::image {

namespace {

class zstd_decompressor final : public decompressor {
 public:
  zstd_decompressor() : ctx_(ZSTD_createDCtx()), out_(ZSTD_DStreamOutSize()) {
    if (!ctx_) throw std::bad_alloc();
  }

  result<void> feed(std::span<const std::byte> input, byte_sink out) override {
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    for (;;) {
      ZSTD_outBuffer o{out_.data(), out_.size(), 0};
      std::size_t hint = ZSTD_decompressStream(ctx_.get(), &o, &in);
      if (ZSTD_isError(hint))
        return fail(error_kind::invalid_argument,
                    fmt::format("corrupt zstd stream at compressed byte {}: {}", consumed_ + in.pos,
                                ZSTD_getErrorName(hint)));
      frame_open_ = hint != 0;
      if (o.pos > 0)
        if (auto r = out(std::span<const std::byte>(out_.data(), o.pos)); !r) return r;
      if (in.pos == in.size && o.pos < o.size) break;
    }
    consumed_ += input.size();
    return {};
  }

  result<void> finish(byte_sink) override {
    if (consumed_ == 0)
      return fail(error_kind::invalid_argument, "truncated zstd stream: no input");
    if (frame_open_)
      return fail(error_kind::invalid_argument,
                  fmt::format("truncated zstd stream: input ends inside a frame after {} "
                              "compressed bytes",
                              consumed_));
    return {};
  }

  compression kind() const override { return compression::zstd; }

 private:
  struct ctx_free {
    void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
  };
  std::unique_ptr<ZSTD_DCtx, ctx_free> ctx_;
  std::vector<std::byte> out_;
  std::uint64_t consumed_ = 0;
  bool frame_open_ = false;  // the last call ended inside a frame
};

}  // namespace

std::unique_ptr<decompressor> make_zstd_decompressor() {
  return std::make_unique<zstd_decompressor>();
}

}  // namespace ringcri::image
