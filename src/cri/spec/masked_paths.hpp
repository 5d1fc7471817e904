#pragma once
// The paths of /proc and /sys a container sees masked (bind of /dev/null or
// an empty tmpfs) or read-only.
//
// containerd's CRI plugin takes these from the request alone: kubelet sends
// its defaults (the lists below) for every non-privileged container whose
// procMount is Default, and empty lists for procMount Unmasked. An empty
// list masks nothing (containerd/containerd#5029), so a bare crictl request
// gets none either, exactly as under containerd. A privileged container
// gets none whatever the request says.

#include <string>
#include <vector>

#include "api.pb.h"

namespace ringcri::cri::spec {

// kubelet's defaults (the same as the OCI runtime's), for reference and tests.
const std::vector<std::string>& kubelet_default_masked_paths();
const std::vector<std::string>& kubelet_default_readonly_paths();

struct proc_paths {
  std::vector<std::string> masked;
  std::vector<std::string> readonly;
};

proc_paths container_proc_paths(const runtime::v1::LinuxContainerSecurityContext& sc);

}  // namespace ringcri::cri::spec
