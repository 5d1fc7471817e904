#pragma once
// Paths inside a rootfs, resolved as if the rootfs were / (openat2 with
// RESOLVE_IN_ROOT): a symlink in an image ("/data" -> "/etc") cannot send
// a mount, a device node or a mkdir outside the rootfs. The O_PATH fds
// returned are used as mount targets through fd_path().

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::exec::spawn_detail {

// Opens `path` (in the container) beneath root_fd, following symlinks
// inside it. `flags` are added to O_PATH | O_CLOEXEC.
result<unique_fd> open_in_root(int root_fd, std::string_view path, int flags = 0);

// mkdir -p beneath root_fd; returns the last directory.
result<unique_fd> mkdir_all_in_root(int root_fd, std::string_view path, mode_t mode = 0755);

// Makes an empty file (and its parent directories) if `path` is missing,
// for a bind mount of a file; returns it.
result<unique_fd> make_file_in_root(int root_fd, std::string_view path);

// Splits "/a/b/c" into ("/a/b", "c").
std::pair<std::string, std::string> split_parent(std::string_view path);

// "/proc/self/fd/<fd>": the name by which mount(2) reaches what fd refers to.
std::string fd_path(int fd);

}  // namespace ringcri::exec::spawn_detail
