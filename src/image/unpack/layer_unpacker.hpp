#pragma once
// The pipeline for one layer blob, fed as it arrives:
//
//   compressed bytes -> sha256 (the blob digest the manifest names)
//                    -> decompressor -> sha256 (the diff_id the config names)
//                                    -> tar_reader -> layer_sink (a dir, an EROFS image)
//
// Synchronous, blocking syscalls: run it on a worker thread, never on a
// reactor thread. The network side feeds chunks of any size in order;
// each feed() takes all of its bytes or fails. After any failure the
// unpacker only repeats that error: drop it and its layer_writer (which
// removes the half-written directory).
//
// Extraction runs before the digest is known to be right (that is what
// streaming means); the directory is only committed to the layer store
// after finish() has checked size and digest, and the caller has checked
// the returned diff_id against the image config.
//
// What the bytes are blamed for waits for the digest. Bytes that cannot
// be decompressed or read as a tar, or an entry refused (INVALID_ARGUMENT),
// stop the extraction at once, but the rest of the blob is still taken
// and hashed: if it does not hash to the digest, the error is the digest
// mismatch (the registry or the network sent the wrong bytes), and only
// if it does is it what was wrong with the layer. Size and digest
// mismatches are FAILED_PRECONDITION, as containerd's content store has
// them. The layer_limits (RESOURCE_EXHAUSTED) and system errors (a write
// that fails) fail the feed that meets them, and nothing more is taken.
//
// Resuming a broken download: consumed() is the number of compressed bytes
// taken so far, so the next request asks for "Range: bytes=<consumed>-"
// and feeds the 206 body to the same unpacker. A 200 answer (no range
// support) restarts the body from byte 0: skip consumed() bytes of it, or
// start over with a new unpacker and writer. The state lives in memory: a
// daemon restart starts the layer over.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "base/error.hpp"
#include "base/sys/sha256.hpp"
#include "image/digest.hpp"
#include "image/unpack/decompressor.hpp"
#include "image/unpack/layer_limits.hpp"
#include "image/unpack/layer_sink.hpp"
#include "image/unpack/tar_reader.hpp"

namespace ringcri::image {

struct layer_unpack_result {
  digest diff_id;                     // sha256 of the uncompressed tar
  std::uint64_t compressed_size = 0;  // bytes fed (== the manifest's size)
  std::uint64_t uncompressed_size = 0;
  compression detected = compression::none;  // what the bytes were (may differ from the media type)
  extract_counts counts;
  // Time spent in each stage (sums over all feed() calls; finish included).
  std::chrono::nanoseconds digest_time{0};      // both sha256s
  std::chrono::nanoseconds decompress_time{0};  // the codec alone
  std::chrono::nanoseconds extract_time{0};     // tar parsing and file system calls
};

class layer_unpacker {
 public:
  // `expected_digest` and `expected_size` from the manifest's descriptor;
  // `sink` the layer_writer's (borrowed), whose filesystem `limits` are
  // checked on. INVALID_ARGUMENT for a media
  // type that is not a layer's.
  static result<std::unique_ptr<layer_unpacker>> create(digest expected_digest,
                                                        std::uint64_t expected_size,
                                                        std::string_view media_type, layer_sink& sink,
                                                        layer_limits limits = {});

  layer_unpacker(const layer_unpacker&) = delete;
  layer_unpacker& operator=(const layer_unpacker&) = delete;

  // Hashes, decompresses and extracts `chunk`. Fails early when the blob
  // grows past expected_size (FAILED_PRECONDITION), a limit is passed
  // (RESOURCE_EXHAUSTED) or a write fails; after corrupt bytes or a
  // refused entry it only hashes (see above).
  result<void> feed(std::span<const std::byte> chunk);
  // The blob has ended. Checks, in order: size ("layer sha256:..: size
  // mismatch: got N bytes, want M"), digest ("layer sha256:..: digest
  // mismatch: got sha256:..."), what was wrong with the bytes while they
  // came, that the compressed stream and the tar ended cleanly; then sets
  // directory times.
  result<layer_unpack_result> finish();

  // Compressed bytes taken so far: where a resumed download starts.
  std::uint64_t consumed() const { return consumed_; }
  const digest& expected_digest() const { return expected_digest_; }

 private:
  layer_unpacker(digest expected_digest, std::uint64_t expected_size, layer_sink& sink,
                 layer_limits limits);
  tl::unexpected<error> poison(error e);
  // Hands decompressed tar bytes on: limits, the diff_id hash, the tar reader.
  result<void> take_tar(std::span<const std::byte> tar);

  digest expected_digest_;
  std::uint64_t expected_size_;
  std::uint64_t consumed_ = 0;
  std::uint64_t uncompressed_ = 0;
  sys::sha256 blob_hash_;
  sys::sha256 diff_hash_;
  std::unique_ptr<decompressor> decompressor_;
  layer_sink& sink_;
  tar_reader reader_;
  layer_budget budget_;
  // What was wrong with the bytes, held back until the digest says
  // whether they are the layer's; from then on feed() only hashes.
  std::optional<error> content_error_;
  std::chrono::nanoseconds digest_time_{0}, decompress_time_{0}, extract_time_{0};
  std::optional<error> failed_;
  bool finished_ = false;
};

}  // namespace ringcri::image
