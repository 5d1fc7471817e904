#pragma once
// How much a container has written: the bytes (allocated blocks) and
// inodes of its overlay upper dir. A walk of the dir, so its cost grows
// with what the container wrote; blocking, for the blocking pool.

#include <cstdint>
#include <filesystem>

namespace ringcri::cri::stats {

struct layer_usage {
  std::uint64_t used_bytes = 0;
  std::uint64_t inodes_used = 0;
};

// A missing dir (a container being removed) has used nothing.
layer_usage writable_layer_usage(const std::filesystem::path& upper_dir);

}  // namespace ringcri::cri::stats
