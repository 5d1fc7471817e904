#pragma once
// Where a layer's tar entries go: the tar_visitor a layer_unpacker feeds,
// with the end of the archive and what was written. Each layer store has
// its own: the directory store extracts into a directory (tar_extractor),
// the EROFS store writes one image file (erofs_writer).

#include <cstdint>

#include "base/error.hpp"
#include "image/unpack/tar_reader.hpp"

namespace ringcri::image {

struct extract_counts {
  std::uint64_t files = 0;
  std::uint64_t directories = 0;
  std::uint64_t symlinks = 0;
  std::uint64_t hard_links = 0;
  std::uint64_t devices = 0;  // char, block and fifo
  std::uint64_t whiteouts = 0;
  std::uint64_t opaque_dirs = 0;
  std::uint64_t bytes = 0;  // file data written
};

class layer_sink : public tar_visitor {
 public:
  // After the last entry, before the layer is committed.
  virtual result<void> finish() = 0;
  virtual const extract_counts& counts() const = 0;
  // Any fd on the filesystem the layer is written to (borrowed): where
  // layer_limits reads the free space.
  virtual int fs_fd() const = 0;
};

}  // namespace ringcri::image
