#pragma once
// What a failed plugin said. A plugin that fails prints a CNI error on
// stdout ({"cniVersion", "code", "msg", "details"}) and exits non-zero;
// the error returned carries its own words: "plugin bridge: <msg>: <details>".

#include <string_view>

#include "base/error.hpp"

namespace ringcri::net::cni {

// The error for plugin `type`, which ended as `how` ("exit status 1",
// "killed by signal 9") having printed `out` and `err`. Without a CNI
// error on stdout the message is its stderr, else its stdout, trimmed.
// The kind follows the CNI code: 1, 2, 4, 6, 7 (bad version, field,
// environment, encoding, config) INVALID_ARGUMENT, 3 (container unknown)
// NOT_FOUND, 11 (try again later) UNAVAILABLE, anything else INTERNAL.
error plugin_failure(std::string_view type, std::string_view how, std::string_view out,
                     std::string_view err);

}  // namespace ringcri::net::cni
