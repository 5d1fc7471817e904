#pragma once
// mkdir -p.

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/sys/durability.hpp"

namespace ringcri::sys {

// Makes each missing directory of `path` (absolute or relative), with
// `mode` (less the umask), top down; one already there is fine, whatever
// its mode. Returns the directories it made, outermost first, so that a
// caller can undo them; a failure removes what it made before it returns.
// With durability::synced each new directory's parent is fsynced after
// the mkdir, so the new name survives a power cut.
result<std::vector<std::string>> make_dirs(std::string_view path, mode_t mode,
                                           durability how = durability::unsynced);

}  // namespace ringcri::sys
