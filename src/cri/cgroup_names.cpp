#include "cri/cgroup_names.hpp"

#include <fmt/format.h>

#include "exec/cgroups/paths.hpp"

namespace ringcri::cri {

std::string default_pod_cgroup_root(std::string_view driver) {
  return driver == "systemd" ? "/ringcri.slice" : "/ringcri";
}

result<std::string> pod_cgroup_of(std::string_view driver, std::string_view cgroup_parent,
                                  std::string_view pod_id) {
  if (cgroup_parent.empty()) {
    if (driver == "systemd") return fmt::format("/ringcri.slice/ringcri-pod{}.slice", pod_id);
    return fmt::format("/ringcri/pod-{}", pod_id);
  }
  auto path = exec::cgroups::pod_cgroup_for_driver(driver, cgroup_parent);
  if (!path) return tl::unexpected(std::move(path.error()).context("pod cgroup_parent"));
  return path;
}

result<std::string> container_cgroup_of(std::string_view driver, std::string_view pod_cgroup,
                                        std::string_view container_id) {
  return exec::cgroups::container_cgroup_for_driver(driver, pod_cgroup, container_id);
}

}  // namespace ringcri::cri
