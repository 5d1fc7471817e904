#pragma once
// The CNI spec versions this client speaks: 1.0.0 and 0.4.0, and the
// older 0.3.0/0.3.1 that many installed configs still name.

#include <string_view>

namespace ringcri::net::cni {

// 1.0.0, 0.4.0, 0.3.1 or 0.3.0.
bool is_supported_version(std::string_view cni_version);

// 0.4.0 and later: CHECK exists, and DEL gets the ADD result as prevResult.
bool version_has_check(std::string_view cni_version);

}  // namespace ringcri::net::cni
