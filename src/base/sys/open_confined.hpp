#pragma once
// Opening a path with the kernel keeping its resolution inside a directory
// (openat2(2), Linux 5.6+), magic links (/proc/<pid>/fd/...) refused with
// ELOOP in both modes:
//
//   beneath  RESOLVE_BENEATH: symlinks that stay beneath the directory are
//            followed (lib -> usr/lib); an absolute symlink, or ".." that
//            would leave it, fails with EXDEV. For layer dirs being written.
//   in_root  RESOLVE_IN_ROOT: the directory is "/" for the lookup, so an
//            absolute symlink or ".." stops at it ("/data" -> "/etc" means
//            <dir>/etc). For a container's rootfs, as its processes see it.
//
// EAGAIN (a rename elsewhere raced a ".." lookup) and EINTR are retried a
// bounded number of times: a tree being renamed without end cannot hold
// the caller forever.

#include <string_view>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::sys {

enum class resolve { beneath, in_root };

// The call itself, as open(2) answers: an fd, or -1 with errno set.
// `path` must not be empty ("." is `dir_fd` itself); `flags` are open(2)
// flags, O_CLOEXEC added. Allocates nothing and never throws: for a
// freshly cloned child.
int openat2_confined(int dir_fd, const char* path, resolve mode, int flags) noexcept;

// The same as an owned fd; "" means `dir_fd` itself. The error keeps the
// errno (error::sys_errno()) so callers can tell ENOENT from EXDEV;
// ENOSYS says which kernel is needed.
result<unique_fd> open_confined(int dir_fd, std::string_view path, resolve mode, int flags);

}  // namespace ringcri::sys
