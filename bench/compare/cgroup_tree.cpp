#include "cgroup_tree.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>

namespace ringcri::bench {

namespace fs = std::filesystem;

std::vector<std::string> remove_cgroups_under(const fs::path& root) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return std::distance(a.begin(), a.end()) > std::distance(b.begin(), b.end());
  });
  std::vector<std::string> left;
  for (const auto& d : dirs)
    if (::rmdir(d.c_str()) != 0 && errno != ENOENT) left.push_back(d.string());
  return left;
}

void remove_cgroup_tree(const fs::path& root) {
  remove_cgroups_under(root);
  ::rmdir(root.c_str());
}

}  // namespace ringcri::bench
