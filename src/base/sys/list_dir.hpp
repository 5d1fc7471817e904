#pragma once
// The names in one directory.

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::sys {

struct dir_entry {
  std::string name;
  // readdir's d_type: DT_DIR, DT_REG, DT_LNK... or DT_UNKNOWN where the
  // file system does not say (then lstat).
  unsigned char type;
};

// The entries of the directory `path` relative to `at_fd` (AT_FDCWD, or
// a directory fd with "." for that directory itself), without "." and
// "..", in readdir's order. Read through an fd of its own: `at_fd`'s
// offset is left alone. A symlink as `path` is not followed.
result<std::vector<dir_entry>> list_dir(int at_fd, std::string_view path = ".");

}  // namespace ringcri::sys
