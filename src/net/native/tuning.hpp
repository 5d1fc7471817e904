#pragma once
// The tuning plugin (plugins/meta/tuning of containernetworking plugins
// v1.1.1) when it only sets sysctls: each `sysctl` key (its IFNAME
// replaced by the interface's name, dots read as slashes) written under
// /proc/sys/net in the pod's namespace, the previous result passed on.
// Nothing is saved for DEL (the plugin saves and restores only link
// settings), and CHECK reads each value back. Done in-process: no process
// started. A config that changes the link (mac, mtu, promisc, allmulti,
// from the config, runtimeConfig, "args" or CNI_ARGS) runs the plugin.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "net/cni/attachment.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::native {

struct tuning_config {
  // (name under /proc/sys, value), for this pod's interface.
  std::vector<std::pair<std::string, std::string>> sysctls;
};

// `plugin`: the plugin's stdin config. Either the config, or why the
// plugin must run (a key outside /proc/sys/net is the plugin's error).
struct tuning_choice {
  std::optional<tuning_config> config;
  std::string exec_reason;
};
tuning_choice choose_tuning(const nlohmann::json& plugin, const cni::attachment& pod);

// Returns `prev_result`; the first sysctl that cannot be written fails it.
reactor::task<result<std::string>> tuning_add(const tuning_config& config,
                                              const cni::attachment& pod,
                                              const std::string& prev_result);
// Every sysctl has its configured value.
reactor::task<result<void>> tuning_check(const tuning_config& config, const cni::attachment& pod);

}  // namespace ringcri::net::native
