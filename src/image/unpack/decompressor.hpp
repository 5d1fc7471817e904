#pragma once
// Streaming decompression of a layer blob: compressed bytes go in, in any
// pieces; the tar stream comes out, in pieces, to a byte_sink. One
// interface over gzip (isa-l igzip), zstd and uncompressed tar.
//
// Which codec: the media type must be one of the OCI / Docker layer types
// (anything else is INVALID_ARGUMENT naming it), and the first bytes of
// the blob decide, as containerd does: gzip 1f 8b, zstd 28 b5 2f fd (or a
// zstd skippable frame), otherwise uncompressed tar. Registries do serve
// "+gzip" layers that are plain tar or zstd; the digest already proves the
// bytes are the ones the manifest names, so following the bytes is safe.

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "base/error.hpp"
#include "image/unpack/byte_sink.hpp"

namespace ringcri::image {

enum class compression { none, gzip, zstd };

std::string_view to_string(compression c);

// The compression a layer media type declares:
//   application/vnd.oci.image.layer.v1.tar[+gzip|+zstd]
//   application/vnd.oci.image.layer.nondistributable.v1.tar[+gzip|+zstd]
//   application/vnd.docker.image.rootfs.diff.tar[.gzip|.zstd]
//   application/vnd.docker.image.rootfs.foreign.diff.tar[.gzip]
// INVALID_ARGUMENT naming any other type.
result<compression> compression_of_media_type(std::string_view media_type);

// The compression the first bytes of a blob show. `head` is the first 4
// bytes, or the whole blob when it is shorter.
compression sniff_compression(std::span<const std::byte> head);

class decompressor {
 public:
  virtual ~decompressor() = default;

  // Decompresses all of `input`, handing the output to `out` in pieces of
  // at most ~128 KiB. An error from `out` stops it and is returned as is;
  // corrupt input is INVALID_ARGUMENT ("corrupt gzip stream at compressed
  // byte N: ..."). After any error the decompressor is unusable.
  virtual result<void> feed(std::span<const std::byte> input, byte_sink out) = 0;
  // The input has ended: INVALID_ARGUMENT if it ended inside a gzip member
  // or a zstd frame (a truncated blob).
  virtual result<void> finish(byte_sink out) = 0;
  // The codec in use: for a sniffing decompressor, none until it has seen
  // enough bytes.
  virtual compression kind() const = 0;
};

// A decompressor for exactly this codec.
std::unique_ptr<decompressor> make_decompressor(compression c);
// One that waits for the first 4 bytes, sniffs them, then becomes the
// decompressor they call for (what layer_unpacker uses).
std::unique_ptr<decompressor> make_sniffing_decompressor();

}  // namespace ringcri::image
