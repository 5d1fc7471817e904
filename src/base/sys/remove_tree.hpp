#pragma once
// Removing a directory tree (or a single file) named by a directory fd and
// a name, never following a symlink, with one fd open at any depth: a
// hostile layer's 2,000-level tree does not run the process out of fds.

#include <string_view>

#include "base/error.hpp"

namespace ringcri::sys {

// Removes `name` in `dir_fd` and, if it is a directory, everything in it.
// Fine if it does not exist.
//
// Never through a mount point: the walk goes down only into a directory
// whose rmdir said ENOTEMPTY, and the kernel answers EBUSY for a mount
// point (of this mount namespace) before it looks inside. That EBUSY
// stops the removal (error::sys_errno()) with nothing under the mount
// touched.
result<void> remove_tree(int dir_fd, std::string_view name);

}  // namespace ringcri::sys
