#pragma once
// The bandwidth plugin (plugins/meta/bandwidth of containernetworking
// plugins v1.1.1) when it has nothing to do: no rate in its config, nor in
// runtimeConfig.bandwidth. It then prints the previous result unchanged
// and makes nothing, so its DEL finds no ifb device and its CHECK no
// qdisc to look at. Done in-process: no process is started for a pod
// without limits (k3s's default network lists bandwidth for every pod). A
// pod with a limit (a tbf qdisc on the host veth, an ifb device for
// egress) runs the plugin.

#include <nlohmann/json.hpp>
#include <string>

namespace ringcri::net::native {

// Empty when the plugin would do nothing for `plugin` (its stdin config,
// runtimeConfig included); else why it must run.
std::string bandwidth_exec_reason(const nlohmann::json& plugin);

}  // namespace ringcri::net::native
