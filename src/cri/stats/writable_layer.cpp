#include "cri/stats/writable_layer.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace ringcri::cri::stats {

layer_usage writable_layer_usage(const std::filesystem::path& upper_dir) {
  layer_usage usage;
  std::error_code ec;
  auto count = [&](const std::filesystem::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return;  // gone meanwhile
    usage.used_bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    usage.inodes_used += 1;
  };
  if (!std::filesystem::exists(upper_dir, ec)) return usage;
  count(upper_dir);
  for (std::filesystem::recursive_directory_iterator it(
           upper_dir, std::filesystem::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec))
    count(it->path());
  return usage;
}

}  // namespace ringcri::cri::stats
