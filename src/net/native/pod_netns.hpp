#pragma once
// Opening a pod's network namespace by its path (CNI_NETNS), on the
// blocking pool. ENOENT when it is gone.

#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::native {

reactor::task<result<unique_fd>> open_netns(const std::string& path);

}  // namespace ringcri::net::native
