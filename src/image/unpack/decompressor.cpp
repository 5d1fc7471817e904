#include "image/unpack/decompressor.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>

#include "image/unpack/gzip_decompressor.hpp"
#include "image/unpack/zstd_decompressor.hpp"

namespace ringcri::image {

namespace {

struct media_type_codec {
  std::string_view media_type;
  compression codec;
};

constexpr std::array<media_type_codec, 12> layer_media_types{{
    {"application/vnd.oci.image.layer.v1.tar", compression::none},
    {"application/vnd.oci.image.layer.v1.tar+gzip", compression::gzip},
    {"application/vnd.oci.image.layer.v1.tar+zstd", compression::zstd},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar", compression::none},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", compression::gzip},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", compression::zstd},
    {"application/vnd.docker.image.rootfs.diff.tar", compression::none},
    {"application/vnd.docker.image.rootfs.diff.tar.gzip", compression::gzip},
    {"application/vnd.docker.image.rootfs.diff.tar.zstd", compression::zstd},
    {"application/vnd.docker.image.rootfs.foreign.diff.tar", compression::none},
    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", compression::gzip},
    {"application/vnd.docker.image.rootfs.foreign.diff.tar.zstd", compression::zstd},
}};

constexpr std::size_t sniff_size = 4;

// Uncompressed tar: the bytes pass through untouched.
class identity_decompressor final : public decompressor {
 public:
  result<void> feed(std::span<const std::byte> input, byte_sink out) override {
    if (input.empty()) return {};
    return out(input);
  }
  result<void> finish(byte_sink) override { return {}; }
  compression kind() const override { return compression::none; }
};

// Holds back the first 4 bytes until it knows the codec, then forwards
// everything to the decompressor they call for.
class sniffing_decompressor final : public decompressor {
 public:
  result<void> feed(std::span<const std::byte> input, byte_sink out) override {
    if (inner_) return inner_->feed(input, out);
    std::size_t take = std::min(sniff_size - head_size_, input.size());
    std::memcpy(head_.data() + head_size_, input.data(), take);
    head_size_ += take;
    if (head_size_ < sniff_size) return {};
    if (auto r = start(out); !r) return r;
    return inner_->feed(input.subspan(take), out);
  }

  result<void> finish(byte_sink out) override {
    if (!inner_)
      if (auto r = start(out); !r) return r;
    return inner_->finish(out);
  }

  compression kind() const override { return inner_ ? inner_->kind() : compression::none; }

 private:
  result<void> start(byte_sink out) {
    std::span<const std::byte> head(head_.data(), head_size_);
    inner_ = make_decompressor(sniff_compression(head));
    return inner_->feed(head, out);
  }

  std::array<std::byte, sniff_size> head_{};
  std::size_t head_size_ = 0;
  std::unique_ptr<decompressor> inner_;
};

}  // namespace

std::string_view to_string(compression c) {
  switch (c) {
    case compression::none:
      return "none";
    case compression::gzip:
      return "gzip";
    case compression::zstd:
      return "zstd";
  }
  return "unknown";
}

result<compression> compression_of_media_type(std::string_view media_type) {
  for (const auto& known : layer_media_types)
    if (known.media_type == media_type) return known.codec;
  return fail(error_kind::invalid_argument,
              fmt::format("unsupported layer media type \"{}\"", media_type));
}

compression sniff_compression(std::span<const std::byte> head) {
  auto at = [&](std::size_t i) { return std::to_integer<unsigned>(head[i]); };
  if (head.size() >= 2 && at(0) == 0x1f && at(1) == 0x8b) return compression::gzip;
  if (head.size() >= 4) {
    std::uint32_t magic =
        at(0) | at(1) << 8 | at(2) << 16 | static_cast<std::uint32_t>(at(3)) << 24;
    if (magic == 0xFD2FB528u) return compression::zstd;                  // a zstd frame
    if ((magic & 0xFFFFFFF0u) == 0x184D2A50u) return compression::zstd;  // a skippable frame
  }
  return compression::none;
}

std::unique_ptr<decompressor> make_decompressor(compression c) {
  switch (c) {
    case compression::gzip:
      return make_gzip_decompressor();
    case compression::zstd:
      return make_zstd_decompressor();
    case compression::none:
      break;
  }
  return std::make_unique<identity_decompressor>();
}

std::unique_ptr<decompressor> make_sniffing_decompressor() {
  return std::make_unique<sniffing_decompressor>();
}

}  // namespace ringcri::image
