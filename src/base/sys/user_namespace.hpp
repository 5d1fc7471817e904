#pragma once
// User namespaces and idmapped mounts: making a user namespace with given
// uid/gid mappings (held by an fd, no process left in it), and cloning a
// tree as a detached mount idmapped through such a namespace, which is how
// a pod's rootfs layers and host mounts reach it without any chown.

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::sys {

// One line of /proc/<pid>/uid_map: ids [container_id, container_id+size)
// in the namespace are [host_id, host_id+size) outside it.
struct id_mapping {
  std::uint32_t container_id = 0;
  std::uint32_t host_id = 0;
  std::uint32_t size = 0;
};

// The id the kernel shows for an id no mapping covers (overflowuid).
inline constexpr std::uint32_t overflow_id = 65534;

// The host id of `id` in the namespace, or overflow_id if unmapped.
std::uint32_t host_id_of(const std::vector<id_mapping>& mappings, std::uint32_t id);

// A new user namespace whose uid_map and gid_map are `uids` and `gids`
// (setgroups stays allowed: the maps are written by a privileged parent).
// A short-lived child (CLONE_NEWUSER|CLONE_VM, on a stack of its own) makes
// it and waits while the maps are written; the returned fd of its
// /proc/<pid>/ns/user keeps the namespace alive once the child is gone.
// Safe from a multi-threaded process: the child only reads a pipe and exits.
result<unique_fd> make_user_namespace(const std::vector<id_mapping>& uids,
                                      const std::vector<id_mapping>& gids);

// open_tree(OPEN_TREE_CLONE) of `path` (with its submounts when
// `recursive`), made idmapped through `userns_fd` with mount_setattr
// (MOUNT_ATTR_IDMAP): a file owned by host uid H appears to the
// namespace's processes as the id H maps to. Detached: attach it with
// move_mount. Needs CAP_SYS_ADMIN in the initial user namespace and a
// file system that supports idmapped mounts (ext4, xfs, btrfs, tmpfs 6.3+).
result<unique_fd> open_idmapped_tree(const char* path, int userns_fd, bool recursive);

}  // namespace ringcri::sys
