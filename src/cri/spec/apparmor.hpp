#pragma once
// AppArmor requests of pods and containers. ringcri loads and applies no
// AppArmor profile, so what it can honour is "no profile": unconfined, and
// runtime/default on a node without AppArmor (containerd treats it the
// same there). A localhost/<name> profile asks for confinement that would
// silently not happen: it is refused, naming the profile, as containerd
// refuses one on a node without AppArmor.

#include <string_view>

#include "api.pb.h"
#include "base/error.hpp"

namespace ringcri::cri::spec {

// `profile`: the SecurityProfile field when set (it wins), else null;
// `old_name`: the deprecated string field ("runtime/default",
// "unconfined", "localhost/<name>" or ""). INVALID_ARGUMENT for a
// localhost profile or an unknown name.
result<void> check_apparmor(const runtime::v1::SecurityProfile* profile, std::string_view old_name);

// Whether the running kernel has AppArmor enabled.
bool node_has_apparmor();

}  // namespace ringcri::cri::spec
