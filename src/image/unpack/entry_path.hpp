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

}  // namespace ringcri::image
