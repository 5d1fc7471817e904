#pragma once
// Start-up, after restore(): find every container's process again. The
// keeper held them while the daemon was away; what exited meanwhile has an
// exit record. A container the keeper does not know and that left no
// record is killed and reported EXITED with reason "KeeperLost" (the
// keeper was killed, or the node rebooted). Runs at start and each time
// the keeper link connects again.

#include "cri/context.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

reactor::task<result<void>> reattach(context& ctx);

}  // namespace ringcri::cri
