#include "cri/spec/masked_paths.hpp"

namespace ringcri::cri::spec {

const std::vector<std::string>& kubelet_default_masked_paths() {
  static const std::vector<std::string> paths = {
      "/proc/asound",
      "/proc/acpi",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/proc/scsi",
      "/sys/firmware",
      "/sys/devices/virtual/powercap",
  };
  return paths;
}

const std::vector<std::string>& kubelet_default_readonly_paths() {
  static const std::vector<std::string> paths = {
      "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
  };
  return paths;
}

proc_paths container_proc_paths(const runtime::v1::LinuxContainerSecurityContext& sc) {
  if (sc.privileged()) return {};
  return {{sc.masked_paths().begin(), sc.masked_paths().end()},
          {sc.readonly_paths().begin(), sc.readonly_paths().end()}};
}

}  // namespace ringcri::cri::spec
