#pragma once
// mount_setattr(2) (Linux 5.12), which glibc 2.36 does not wrap: the one
// call that changes the attributes of a whole mount tree at once. A plain
// bind remount changes the top mount only, so a recursive read-only bind
// (the CRI's recursive_read_only, OCI's "rro") needs it.

namespace ringcri::sys {

// Makes the mount `fd` refers to (an O_PATH fd of its root, or an
// open_tree clone) and every mount below it read-only. 0 or -errno.
int make_tree_readonly(int fd);

// Whether the kernel has mount_setattr; asked once, then remembered.
bool kernel_has_mount_setattr();

}  // namespace ringcri::sys
