#pragma once
// zstd through libzstd's ZSTD_decompressStream: any number of frames
// (skippable ones included) back to back. The window is capped at
// libzstd's default (2^27, 128 MiB); frames made with --long=31 are refused
// rather than let one layer take 2 GiB.

#include <memory>

#include "image/unpack/decompressor.hpp"

namespace ringcri::image {

std::unique_ptr<decompressor> make_zstd_decompressor();

}  // namespace ringcri::image
