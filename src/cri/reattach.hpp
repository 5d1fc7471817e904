#pragma once
// Start-up, after restore(): find every container's process again. The
// keeper held them while the daemon was away; what exited meanwhile has an
// exit record. A container the keeper does not know and that left no
// record is reported EXITED with reason "Unknown" (the node rebooted, or
// the keeper was killed).

#include "cri/context.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

reactor::task<result<void>> reattach(context& ctx);

}  // namespace ringcri::cri
