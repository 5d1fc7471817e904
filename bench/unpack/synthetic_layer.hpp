#pragma once
// A synthetic image layer built in memory for bench_unpack: a ustar
// archive shaped like a distribution layer (the Debian image measured in
// docs/design.md holds 6,666 files in 179 MB, ~27 KB each): directories,
// files of log-uniform sizes (64 B - 256 KiB, a few of 1-8 MiB) whose contents compress
// like a real layer's (text, code-like binary, a little incompressible),
// and some symlinks.

#include <cstddef>
#include <cstdint>
#include <string>

namespace ringcri::bench {

struct synthetic_layer {
  std::string tar;
  std::size_t files = 0;
  std::size_t directories = 0;
  std::size_t symlinks = 0;
};

synthetic_layer make_synthetic_layer(std::size_t target_bytes, std::uint64_t seed = 42);

}  // namespace ringcri::bench
