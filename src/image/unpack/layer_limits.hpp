#pragma once
// layer_limits: how much of the disk under the layer store one layer may
// take, checked as its bytes are extracted, so that no image can fill the
// node's disk (and with it the kubelet's, the logs' and every container's).
//
// A layer is refused with RESOURCE_EXHAUSTED, naming the limit, when its
// uncompressed tar grows past max_bytes, or when the filesystem that
// holds it has less than min_free_bytes available (f_bavail: what is left
// before the blocks reserved for root, as the kubelet's eviction reads
// it), or would have once the next piece is written. Bytes past max_bytes
// are never written. The free space is read at the first byte and then
// again after every check_every bytes: a statvfs per write would cost a
// syscall per file, one per MiB costs next to nothing and lets a layer
// overshoot min_free_bytes by at most that much.
//
//   layer_budget budget(limits, root_fd);
//   ... total += tar.size(); if (auto r = budget.reached(total); !r) return r;

#include <cstdint>

#include "base/error.hpp"

namespace ringcri::image {

struct layer_limits {
  std::uint64_t max_bytes = 0;       // uncompressed bytes of one layer; 0: no limit
  std::uint64_t min_free_bytes = 0;  // available bytes the filesystem keeps; 0: not checked
  std::uint64_t check_every = 1u << 20;
};

// One layer's use of its limits. Blocking (fstatvfs): worker threads only.
class layer_budget {
 public:
  // `fs_fd`: any fd on the filesystem the layer is written to (borrowed).
  layer_budget(layer_limits limits, int fs_fd) : limits_(limits), fs_fd_(fs_fd) {}

  // The layer's uncompressed bytes come to `total` with the next piece,
  // not yet written. Fails when that passes a limit.
  result<void> reached(std::uint64_t total);

 private:
  layer_limits limits_;
  int fs_fd_;
  bool checked_ = false;
  std::uint64_t next_check_ = 0;  // statvfs again once total reaches this
  std::uint64_t seen_ = 0;        // total at the previous call
};

}  // namespace ringcri::image
