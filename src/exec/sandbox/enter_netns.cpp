#include "exec/sandbox/enter_netns.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "base/sys/network_namespace.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::exec::sandbox {

result<void> in_network_namespace(const std::string& netns_path,
                                  const std::function<void()>& work) {
  if (netns_path.empty()) {
    work();
    return {};
  }
  unique_fd target(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target)
    return fail_errno(errno, fmt::format("open the pod's network namespace {}", netns_path));
  auto entered = sys::in_network_namespace(target.get(), work);
  if (!entered)
    return tl::unexpected(
        std::move(entered.error()).context(fmt::format("pod network namespace {}", netns_path)));
  return {};
}

}  // namespace ringcri::exec::sandbox
