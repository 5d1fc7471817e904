#pragma once
// Archive member names made into paths relative to the layer root, the
// way Docker and containerd clean them (lexically: "./a//b/../c" is "a/c"),
// except that a name that is absolute, or whose ".." climbs above the
// root, is refused instead of being clamped to the root.

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace ringcri::image {

// "a/b/c" (no ".", "..", empty or trailing components), or "" for the
// root itself ("." or "./"). INVALID_ARGUMENT naming `name` when it is
// empty, absolute, holds a NUL byte or climbs out of the root.
result<std::string> clean_entry_path(std::string_view name);

// For a cleaned path: the directory holding it ("" at the top) and its
// last component.
std::string_view parent_of(std::string_view clean);
std::string_view name_of(std::string_view clean);

// Overlayfs in an archive, as every layer store takes it: "d/.wh.x"
// whites out "d/x", "d/.wh..wh..opq" makes d opaque, other ".wh..wh."
// names are aufs bookkeeping and skipped.
inline constexpr std::string_view whiteout_prefix = ".wh.";
inline constexpr std::string_view whiteout_meta_prefix = ".wh..wh.";
inline constexpr std::string_view opaque_marker = ".wh..wh..opq";
inline constexpr std::string_view overlay_xattr_prefix = "trusted.overlay.";
inline constexpr std::string_view opaque_xattr = "trusted.overlay.opaque";

// Whether an archive's xattr is kept: "trusted.overlay.*" but opaque is
// dropped, so a layer cannot forge overlayfs redirects or metacopy.
inline bool keep_xattr(std::string_view name) {
  return !name.starts_with(overlay_xattr_prefix) || name == opaque_xattr;
}

}  // namespace ringcri::image
