#include "base/sys/mount_setattr.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace ringcri::sys {

namespace {

// <linux/mount.h>'s, which clashes with glibc's <sys/mount.h>.
struct mount_attr {
  std::uint64_t attr_set;
  std::uint64_t attr_clr;
  std::uint64_t propagation;
  std::uint64_t userns_fd;
};
constexpr std::uint64_t mount_attr_rdonly = 0x00000001;
constexpr unsigned at_recursive = 0x8000;

#ifndef SYS_mount_setattr
constexpr long SYS_mount_setattr = 442;  // the same on every architecture
#endif

}  // namespace

int make_tree_readonly(int fd) {
  mount_attr attr{mount_attr_rdonly, 0, 0, 0};
  if (::syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | at_recursive, &attr, sizeof attr) == 0)
    return 0;
  return -errno;
}

bool kernel_has_mount_setattr() {
  // A bad fd: EBADF where the call exists, ENOSYS where it does not.
  static const bool has = [] {
    mount_attr attr{};
    return ::syscall(SYS_mount_setattr, -1, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0 ||
           errno != ENOSYS;
  }();
  return has;
}

}  // namespace ringcri::sys
