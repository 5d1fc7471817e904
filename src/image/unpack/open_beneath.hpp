#pragma once
// Opening a path inside a directory with the kernel guaranteeing it stays
// inside: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). Symlinks that
// stay beneath the root are followed (lib -> usr/lib); an absolute symlink,
// or ".." (literal or from a symlink) that would leave the root, fails with
// EXDEV; /proc-style magic links fail with ELOOP. This is the one place
// image/unpack resolves a multi-component path.

#include <string_view>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::image {

// `path` relative to `root_fd` ("" or "." is the root itself); `flags` are
// open(2) flags (O_CLOEXEC is added). The error keeps the errno
// (error::sys_errno()) so callers can tell ENOENT from EXDEV.
result<unique_fd> open_beneath(int root_fd, std::string_view path, int flags);

}  // namespace ringcri::image
