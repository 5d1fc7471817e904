#pragma once
// The container's mounts, in the order they are made:
//
// 1. The defaults every container has: /proc, /dev (tmpfs), /dev/pts,
//    /dev/shm (a tmpfs of its own), /dev/mqueue, /sys (read-only unless
//    privileged), /sys/fs/cgroup (the node's hierarchies as seen from the
//    container's cgroup namespace: its own cgroups, read-only unless
//    privileged). A requested mount on one of their destinations replaces
//    it, and a requested /dev or /sys replaces every default under it.
// 2. The request's mounts together with the pod's /etc/hosts,
//    /etc/resolv.conf and /etc/hostname (each unless the request mounts
//    that path itself), stably sorted by the number of components of the
//    destination so that a parent is mounted before what lands inside it,
//    as containerd does. Each is an "rbind" with its propagation
//    (PRIVATE "rprivate", HOST_TO_CONTAINER "rslave", BIDIRECTIONAL
//    "rshared") and "ro" or "rw". The pod's files are read-only when the
//    container's rootfs is.
//
// A host path is resolved through its symlinks. A host path that does not
// exist is an error naming it (NOT_FOUND from the stat): containerd would
// create it as a directory, but creating host directories on behalf of a
// request is a decision for kubelet (hostPath type DirectoryOrCreate), and
// a typo'd path silently becoming an empty directory hides the mistake.

#include <string>
#include <string_view>
#include <vector>

#include "api.pb.h"
#include "base/error.hpp"
#include "cri/spec/container_spec.hpp"
#include "exec/cgroups/mountinfo.hpp"
#include "exec/spec.hpp"

namespace ringcri::cri::spec {

std::vector<exec::mount_spec> default_mounts(bool privileged);

// The node's hierarchies as a container's /sys/fs/cgroup lays them out.
std::vector<exec::cgroup_hierarchy_spec> cgroup_tree(const std::vector<exec::cgroups::cgroup_mount>& mounts);

result<std::vector<exec::mount_spec>> container_mounts(const runtime::v1::ContainerConfig& config,
                                                       const pod_paths& pod, bool readonly_rootfs,
                                                       bool privileged);

// "/a//b/./c/../" -> "/a/b": lexical, like Go's filepath.Clean.
std::string clean_path(std::string_view path);

}  // namespace ringcri::cri::spec
