#pragma once
// A network list run for one pod with each plugin either done in-process
// or exec'd: `bridge` with host-local IPAM, `flannel` delegating to it,
// `loopback`, `portmap` after a native bridge, `tuning` setting sysctls
// and `bandwidth` without a limit run natively (bridge.hpp, flannel.hpp,
// loopback.hpp, portmap.hpp, tuning.hpp, bandwidth.hpp) when the config
// allows it; every other plugin (tuning of the link, bandwidth with a
// limit, anything unknown) is exec'd as the CNI spec says, on the blocking
// pool, given the previous plugin's result whichever way that one ran.
// The chaining is the spec's; the native path grows plugin by plugin.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "net/cni/attachment.hpp"
#include "net/cni/config.hpp"
#include "net/cni/plugin.hpp"
#include "net/cni/result_json.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::native {

enum class native_mode { automatic, off };

// How one plugin of the list ran.
struct plugin_run {
  std::string type;
  bool native = false;
  std::string exec_reason;  // why it was exec'd ("native path off", "a VLAN")
};

struct chain_options {
  native_mode mode = native_mode::automatic;
  std::vector<std::string> plugin_dirs;
  // The namespace that plays the host for native plugins (-1: the
  // daemon's own). Exec'd plugins run in the daemon's.
  int host_netns_fd = -1;
  std::chrono::milliseconds timeout = cni::default_plugin_timeout;
  // For DEL and CHECK: how the ADD ran each plugin (parse_runs of the
  // pod's record); each then runs the same way. Empty: chosen as for ADD.
  std::vector<plugin_run> added;
};

struct chain_add_result {
  std::string result_json;  // the last plugin's result: keep it for DEL and CHECK
  std::vector<cni::pod_ip> ips;
  std::vector<plugin_run> runs;
};

// "bridge=native loopback=native portmap=exec", for the pod's verbose
// status; an exec'd plugin that could have been native says why in
// parentheses.
std::string describe(const std::vector<plugin_run>& runs);
// The runs back from describe()'s words (the reasons are dropped).
std::vector<plugin_run> parse_runs(std::string_view described);

// As cni::add: on failure every plugin's DEL runs (reverse order, errors
// ignored) and the failing plugin's error is returned.
reactor::task<result<chain_add_result>> add(const cni::network_list& list,
                                            const cni::attachment& pod,
                                            const chain_options& options);
// As cni::del: every plugin, reverse order, the first error. The native
// plugins' nftables elements (masquerade, host ports) go last, together.
reactor::task<result<void>> del(const cni::network_list& list, const cni::attachment& pod,
                                const std::string& prev_result, const chain_options& options);
// As cni::check.
reactor::task<result<void>> check(const cni::network_list& list, const cni::attachment& pod,
                                  const std::string& prev_result, const chain_options& options);

}  // namespace ringcri::net::native
