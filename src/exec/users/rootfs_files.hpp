#pragma once
// Reads a file of a container's rootfs straight from its image layer dirs,
// without mounting the overlay: the daemon needs /etc/passwd and /etc/group
// of an image while building the container spec, before any mount exists.
//
// The lookup follows overlayfs's rules over the lower dirs (given top
// first): a path component is taken from the topmost layer that has it; a
// whiteout (a 0:0 char device of the same name) hides it in every layer
// below; a directory marked opaque (xattr trusted.overlay.opaque = "y")
// hides everything of the layers below it. Symlinks met on the way are
// resolved inside the rootfs ("/" is the rootfs's root, ".." never leaves
// it), like the kernel would once the overlay is the root.

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::exec {

// The effective content of `path_in_rootfs` ("/etc/passwd"). NOT_FOUND when
// no layer has it, a whiteout hides it, or a symlink on the way dangles;
// INVALID_ARGUMENT when it resolves to something that is not a regular file
// or symlinks loop.
result<std::string> read_rootfs_file(const std::vector<std::string>& layers_top_first,
                                     std::string_view path_in_rootfs);

}  // namespace ringcri::exec
