#pragma once
// A read-only layer of ringcri's own, put on top of a container's image
// layers: /etc with empty hostname, hosts and resolv.conf, the mount
// points of the pod's files that every container gets. Without it each
// create makes them in the container's writable layer (/etc copied up,
// then three files, four new inodes on the node's disk) only for a bind
// mount to cover them.
//
// It goes on top only where a container sees no difference: in the image
// /etc is absent or a directory owned by root with mode 0755, and each of
// the three names is absent, a regular file or deleted (a symlink there
// leads the bind mount elsewhere, a directory makes it fail: left to the
// container's set-up as before). Blocking calls, for the blocking pool.

#include <filesystem>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace ringcri::cri {

// Makes the layer at `dir` (an empty /etc of mode 0755 and the three
// files, 0644, owned by root), or checks one made before and remakes it
// when it is not that.
result<void> make_mount_point_layer(const std::filesystem::path& dir);

// Whether the layer may go on top of `layers` (image layer dirs, top
// first, as overlayfs's lowerdir lists them).
bool mount_point_layer_fits(const std::vector<std::string>& layers);

}  // namespace ringcri::cri
