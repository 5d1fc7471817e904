#pragma once
// The flannel meta plugin done in-process (flannel-io/cni-plugin): ADD
// renders the delegate's config from the node's subnet.env
// (flannel_config.hpp), saves it as <dataDir>/<container id> for DEL, and
// runs the delegate, the bridge: natively when its config allows, else
// the bridge plugin with that config. DEL runs the delegate with the saved
// config and then removes it; no file, nothing to do. CHECK does nothing,
// as the plugin's does not.
//
// The saved file is the plugin's own: a pod ADDed by the flannel plugin is
// DELeted here and the reverse.

#include <chrono>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "net/cni/attachment.hpp"
#include "net/native/flannel_config.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::native {

// How a flannel entry reaches plugins it runs by exec (a delegate that is
// not native), and the namespace playing the host for native ones.
struct delegate_options {
  std::vector<std::string> plugin_dirs;
  std::chrono::milliseconds timeout{};
  int host_netns_fd = -1;
};

// The delegate's result. FAILED_PRECONDITION when subnet.env is missing
// or incomplete (flanneld has not set the node up), in the plugin's words.
reactor::task<result<std::string>> flannel_add(const flannel_config& config,
                                               const cni::attachment& pod,
                                               const delegate_options& options);

reactor::task<result<void>> flannel_del(const flannel_config& config, const cni::attachment& pod,
                                        const delegate_options& options);

}  // namespace ringcri::net::native
