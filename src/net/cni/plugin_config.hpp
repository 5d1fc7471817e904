#pragma once
// What one plugin of a network list is given for one pod: its stdin
// config (its own object plus the list's name and cniVersion, the previous
// result, the runtime config it asked for) and CNI_ARGS.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "net/cni/attachment.hpp"
#include "net/cni/config.hpp"

namespace ringcri::net::cni {

// Plugin `index` of `list` with "name" and "cniVersion" of the list set,
// "prevResult" when `prev_result` (a result's JSON text) is not empty, and
// the "runtimeConfig" of the capabilities the plugin declares
// ("capabilities": {"portMappings": true, "bandwidth": true}) and the pod
// has: "portMappings": [{hostPort, containerPort, protocol, hostIP}] when
// `ports` is not empty, "bandwidth": {ingressRate, ingressBurst,
// egressRate, egressBurst} when `bandwidth` is set (as libcni does, the
// injected runtimeConfig replaces one written in the file).
// INTERNAL when `prev_result` is not a JSON object.
result<std::string> plugin_stdin(const network_list& list, size_t index,
                                 std::string_view prev_result,
                                 const std::vector<port_mapping>& ports,
                                 const std::optional<bandwidth_limits>& bandwidth = std::nullopt);

// CNI_ARGS: "K=V;K=V". INVALID_ARGUMENT for an empty key, or a key or
// value holding ';' or '=' (plugins split on both).
result<std::string> cni_args(const std::vector<std::pair<std::string, std::string>>& args);

}  // namespace ringcri::net::cni
