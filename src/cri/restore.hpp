#pragma once
// Start-up: put back every pod, container and setting the store holds.

#include "cri/context.hpp"

namespace ringcri::cri {

// Every kind of record the CRI server keeps.
std::vector<std::string> record_kinds();

// Loads the store into the in-memory state. A record that does not parse
// is logged and left on disk (it cannot be torn; it can be from a newer
// ringcri), and the rest still load.
result<void> restore(context& ctx);

}  // namespace ringcri::cri
