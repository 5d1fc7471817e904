#pragma once
// gzip through isa-l's igzip (isal_inflate), the fastest inflate Debian
// ships: about 3x zlib on one core. Handles multi-member files (pigz and
// `cat a.gz b.gz` make them), verifies each member's CRC-32 and length,
// and accepts zero padding after the last member as GNU gzip does; any
// other trailing bytes are an error.

#include <memory>

#include "image/unpack/decompressor.hpp"

namespace ringcri::image {

std::unique_ptr<decompressor> make_gzip_decompressor();

}  // namespace ringcri::image
