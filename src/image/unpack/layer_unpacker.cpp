#include "image/unpack/layer_unpacker.hpp"

#include <fmt/format.h>

namespace ringcri::image {

namespace {

using clock = std::chrono::steady_clock;

}  // namespace

layer_unpacker::layer_unpacker(digest expected_digest, std::uint64_t expected_size, layer_sink& sink,
                               layer_limits limits)
    : expected_digest_(std::move(expected_digest)),
      expected_size_(expected_size),
      decompressor_(make_sniffing_decompressor()),
      sink_(sink),
      reader_(sink_),
      budget_(limits, sink.fs_fd()) {}

result<std::unique_ptr<layer_unpacker>> layer_unpacker::create(digest expected_digest,
                                                               std::uint64_t expected_size,
                                                               std::string_view media_type,
                                                               layer_sink& sink, layer_limits limits) {
  if (auto c = compression_of_media_type(media_type); !c)
    return tl::unexpected(
        std::move(c.error()).context(fmt::format("layer {}", expected_digest.string())));
  return std::unique_ptr<layer_unpacker>(
      new layer_unpacker(std::move(expected_digest), expected_size, sink, limits));
}

tl::unexpected<error> layer_unpacker::poison(error e) {
  e.context(fmt::format("layer {}", expected_digest_.string()));
  failed_ = e;
  return tl::unexpected(std::move(e));
}

result<void> layer_unpacker::take_tar(std::span<const std::byte> tar) {
  // Before the bytes are written: nothing past a limit reaches the disk.
  if (auto r = budget_.reached(uncompressed_ + tar.size()); !r) return r;
  auto s0 = clock::now();
  diff_hash_.update(tar);
  auto s1 = clock::now();
  auto parsed = reader_.feed(tar);
  digest_time_ += s1 - s0;
  extract_time_ += clock::now() - s1;
  uncompressed_ += tar.size();
  return parsed;
}

result<void> layer_unpacker::feed(std::span<const std::byte> chunk) {
  if (failed_) return tl::unexpected(*failed_);
  if (finished_) return fail(error_kind::failed_precondition, "layer unpacker: feed after finish");
  if (chunk.size() > expected_size_ - consumed_)
    return poison(error(
        error_kind::failed_precondition,
        fmt::format("size mismatch: more than the {} bytes the manifest gives", expected_size_)));

  auto t0 = clock::now();
  blob_hash_.update(chunk);
  auto t1 = clock::now();
  digest_time_ += t1 - t0;
  if (content_error_) {
    consumed_ += chunk.size();
    return {};
  }

  // Time inside the sink is split between the diff_id hash and
  // extraction (take_tar counts both); what remains of the
  // decompressor's call is the codec's.
  clock::duration in_sink{0};
  auto sink = [&](std::span<const std::byte> tar) -> result<void> {
    auto s0 = clock::now();
    auto taken = take_tar(tar);
    in_sink += clock::now() - s0;
    return taken;
  };
  auto decompressed = decompressor_->feed(chunk, sink);
  decompress_time_ += clock::now() - t1 - in_sink;
  if (!decompressed) {
    if (decompressed.error().kind() != error_kind::invalid_argument)
      return poison(decompressed.error());
    content_error_ = std::move(decompressed.error());
  }
  consumed_ += chunk.size();
  return {};
}

result<layer_unpack_result> layer_unpacker::finish() {
  if (failed_) return tl::unexpected(*failed_);
  if (finished_) return fail(error_kind::failed_precondition, "layer unpacker: finished twice");
  finished_ = true;
  if (consumed_ != expected_size_)
    return poison(
        error(error_kind::failed_precondition,
              fmt::format("size mismatch: got {} bytes, want {}", consumed_, expected_size_)));
  auto t0 = clock::now();
  digest got = digest::of(blob_hash_);
  digest_time_ += clock::now() - t0;
  if (got != expected_digest_)
    return poison(error(error_kind::failed_precondition,
                        fmt::format("digest mismatch: got {}", got.string())));
  // The bytes are the layer's: what was wrong with them is the layer's.
  if (content_error_) return poison(std::move(*content_error_));

  clock::duration in_sink{0};
  auto sink = [&](std::span<const std::byte> tar) -> result<void> {
    auto s0 = clock::now();
    auto taken = take_tar(tar);
    in_sink += clock::now() - s0;
    return taken;
  };
  auto t1 = clock::now();
  auto flushed = decompressor_->finish(sink);
  decompress_time_ += clock::now() - t1 - in_sink;
  if (!flushed) return poison(flushed.error());

  auto t2 = clock::now();
  if (auto r = reader_.finish(); !r) return poison(r.error());
  if (auto r = sink_.finish(); !r) return poison(r.error());
  extract_time_ += clock::now() - t2;

  auto t3 = clock::now();
  digest diff_id = digest::of(diff_hash_);
  digest_time_ += clock::now() - t3;

  return layer_unpack_result{
      .diff_id = std::move(diff_id),
      .compressed_size = consumed_,
      .uncompressed_size = uncompressed_,
      .detected = decompressor_->kind(),
      .counts = sink_.counts(),
      .digest_time = std::chrono::duration_cast<std::chrono::nanoseconds>(digest_time_),
      .decompress_time = std::chrono::duration_cast<std::chrono::nanoseconds>(decompress_time_),
      .extract_time = std::chrono::duration_cast<std::chrono::nanoseconds>(extract_time_),
  };
}

}  // namespace ringcri::image
