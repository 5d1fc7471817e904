#pragma once
// The mount namespace containers are cloned from.
//
// A new mount namespace starts as a copy of its parent's: the kernel
// copies every mount, under one lock that every mount and unmount on the
// node also takes, and the child detaches all of them again at
// pivot_root. The host's namespace grows with the node (every pod holds
// its network, IPC and UTS namespaces by bind mounts there), so cloning
// containers from it makes each create cost more than the last: at 1,000
// pods a clone copied thousands of mounts.
//
// The base is a copy of the host's namespace made once, when the keeper
// starts: private (nothing mounted on the host later propagates into it),
// without the bind mounts that hold namespaces and without EROFS mounts
// (the image layers, taken from the host's namespace). A container's child
// joins it and unshares a copy of that (enter_mount_base). What the child
// still reaches by path afterwards is what the node had when the keeper
// started: its rootfs directory, directory layers, the host's /dev nodes.
// Everything else it takes from the host is taken before: the pod's
// namespaces are joined, and every bind source cloned (open_tree), in the
// host's namespace.
//
// The base holds what was mounted when the keeper started, as a
// container's copy of the host's namespace did until its pivot_root: a
// file system unmounted from the host later stays in use here until the
// keeper ends.

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::exec {

// Makes the base; the fd (of its nsfs file) keeps it alive. Called by the
// keeper before it starts any thread. A child does the work, so the
// caller's own namespace, root and working directory stay as they are.
result<unique_fd> make_mount_base();

namespace spawn_detail {
// In a child that shares its parent's mount namespace and not its
// fs_struct (clone3 without CLONE_NEWNS or CLONE_FS): joins the base and
// unshares a copy of it, which becomes the child's own. Closes `base_fd`.
result<void> enter_mount_base(int base_fd);
}  // namespace spawn_detail

}  // namespace ringcri::exec
