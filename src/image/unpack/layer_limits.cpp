#include "image/unpack/layer_limits.hpp"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>

namespace ringcri::image {

result<void> layer_budget::reached(std::uint64_t total) {
  if (limits_.max_bytes > 0 && total > limits_.max_bytes) {
    return fail(error_kind::resource_exhausted,
                fmt::format("larger than {} bytes uncompressed, the limit of one layer "
                            "(image.max_layer_bytes)",
                            limits_.max_bytes));
  }
  // The bytes before this piece are on the disk (the extractor writes
  // them as it goes); the piece itself is not yet, so it counts against
  // what is available: the check is whether writing it would go below
  // the floor, not whether an earlier piece already did.
  std::uint64_t piece = total - seen_;
  seen_ = total;
  if (limits_.min_free_bytes == 0 || (checked_ && total < next_check_)) return {};
  checked_ = true;
  next_check_ = total + std::max<std::uint64_t>(limits_.check_every, 1);
  struct statvfs fs {};
  if (::fstatvfs(fs_fd_, &fs) != 0) return fail_errno(errno, "statvfs of the layer store");
  std::uint64_t available = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (available < limits_.min_free_bytes || available - limits_.min_free_bytes < piece) {
    return fail(error_kind::resource_exhausted,
                fmt::format("the layer store's filesystem has {} bytes available at byte {} "
                            "of the layer; its next {} bytes would leave less than the {} bytes "
                            "kept free (image.min_free_bytes)",
                            available, total - piece, piece, limits_.min_free_bytes));
  }
  return {};
}

}  // namespace ringcri::image
