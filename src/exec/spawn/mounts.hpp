#pragma once
// The container's file system, in the order the child builds it: the
// overlay rootfs, spec.mounts beneath it, device nodes, pivot_root, masked
// and readonly paths, and a readonly rootfs at the end. Every error names
// the step and the path.

#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec::spawn_detail {

// A lower layer idmapped through a pod's user namespace, detached.
struct idmapped_lower {
  std::string path;  // the layer's path, where the tree is attached
  unique_fd tree;
};

// The rootfs's lower layers idmapped through `userns_fd`, one tree per
// path (an image may list a layer twice). Taken in the host's mount
// namespace, where the layers are mounted (an EROFS layer mounted after
// the mount base was made is not in the base), before the child joins
// the base.
result<std::vector<idmapped_lower>> open_idmapped_lowers(const rootfs_spec& rootfs, int userns_fd);

// lowerdir=top:...:bottom,upperdir,workdir on rootfs.target; through
// fsopen/fsconfig("lowerdir+") when the option string exceeds a page.
// `idmapped` (open_idmapped_lowers) are first each attached over their
// layer's path, in this mount namespace only, so the overlay reads the
// layers through them.
result<void> mount_overlay(const rootfs_spec& rootfs, std::vector<idmapped_lower> idmapped = {});

// Attaches an overlay made by make_detached_overlay (spawn.hpp) on
// `target`, in the caller's mount namespace.
result<void> attach_overlay(int mount_fd, const std::string& target);

// A detached copy of the mount at `path` (open_tree OPEN_TREE_CLONE),
// with the mounts below it when `recursive`; -1 with errno set on failure.
int clone_tree(const char* path, bool recursive);

// Attaches a detached tree on the directory or file `target_fd` is open
// on (move_mount); -1 with errno set on failure.
int attach_tree(int tree_fd, int target_fd);

// A bind's source, cloned (open_tree) while the child is still in the
// host's mount namespace, where the source is the one the caller named
// (the mount base holds only what the node had when the keeper started,
// mount_base.hpp). The clone keeps the source's peer group, so a
// BIDIRECTIONAL mount ("rshared" or "shared") stays the host's peer. An
// empty fd for a mount that is not a bind.
result<unique_fd> clone_bind_source(const mount_spec& m);

// One spec mount, its destination resolved beneath root_fd. A bind
// attaches `source_tree`, its source cloned by clone_bind_source. With a
// user namespace (userns_fd >= 0) the clone is idmapped first: a host file
// owned by host uid H shows as the id H maps to.
result<void> mount_in_root(int root_fd, const mount_spec& m, int source_tree, int userns_fd = -1);

// A mount of type "cgroup": the node's hierarchies under its destination
// (/sys/fs/cgroup), each mounted inside the container's cgroup namespace.
// Pure v2: the one cgroup2 hierarchy there. v1 or hybrid: a tmpfs with a
// directory per hierarchy, as runc lays it out ("cpu" and "cpuacct"
// symlinks to "cpu,cpuacct"), made read-only last when the mount asks.
// No hierarchies: nothing is mounted (the spec knows none). A v1
// hierarchy with a clone in `dirs` (clone_cgroup_dirs) is that clone,
// attached, instead of a new mount.
result<void> mount_cgroup_tree(int root_fd, const mount_spec& m,
                               const std::vector<cgroup_hierarchy_spec>& hierarchies,
                               std::vector<unique_fd>& dirs);

// Before the child makes its cgroup namespace (which hides where its
// cgroups are): for each v1 hierarchy that names its mount point, a clone
// (open_tree) of the directory of the caller's own cgroup there, which is
// what the hierarchy mounted anew in the namespace would show. An empty
// fd for the others, and where the caller's cgroup is not below the
// mount's root.
result<std::vector<unique_fd>> clone_cgroup_dirs(const std::vector<cgroup_hierarchy_spec>& hierarchies);

// spec.devices as nodes (or binds of the host's node where mknod is
// refused), then /dev/fd, /dev/std{in,out,err} and /dev/ptmx symlinks.
result<void> make_devices(int root_fd, const std::vector<device_spec>& devices);

// Makes `target` the root: pivot_root(".", ".") then detach the old root.
result<void> pivot_into(const std::string& target);

// After pivot_root: /dev/null over a file, an empty readonly tmpfs over a
// directory. Missing paths are skipped.
result<void> mask_paths(const std::vector<std::string>& paths);

// After pivot_root: each path bound onto itself and made readonly.
result<void> make_paths_readonly(const std::vector<std::string>& paths);

// The MS_* flags the mount holding `path` has now: a bind remount must
// repeat them, or the kernel refuses to drop a locked one.
unsigned long current_mount_flags(const char* path);

// After pivot_root: remounts / readonly.
result<void> make_root_readonly();

}  // namespace ringcri::exec::spawn_detail
