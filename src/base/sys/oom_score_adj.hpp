#pragma once
// /proc/self/oom_score_adj, clamped as containerd's restrict_oom_score_adj
// does: lowering it needs CAP_SYS_RESOURCE, and without it the value stays
// where it is rather than failing the caller. Our own processes ask for
// -999 (the OOM killer takes a container first); a container's process
// asks for its spec's value.

#include "base/error.hpp"

namespace ringcri::sys {

result<void> set_oom_score_adj(int value);

}  // namespace ringcri::sys
