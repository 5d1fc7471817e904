#pragma once
// Which device nodes a container may use: the v1 devices controller's
// allow list. Without one a container holding CAP_MKNOD could make a node
// for the host's disk and read it. runc's defaults are the base: mknod of
// any node (using it is what is checked), the standard nodes, ptys, and
// the container's own devices.
//
// cgroup v2 has no devices files: there the same rules are an eBPF
// program attached to the cgroup (device_program.hpp), which
// hierarchy::limit_devices attaches when the node has no v1 devices
// hierarchy.

#include <cstdint>
#include <string>
#include <vector>

namespace ringcri::exec::cgroups {

struct device_rule {
  char type = 'a';            // 'a' (all), 'c' or 'b'
  std::int64_t major = -1;    // -1: any
  std::int64_t minor = -1;    // -1: any
  std::string access = "rwm";

  bool operator==(const device_rule&) const = default;
};

// "c 1:3 rwm", "c 136:* rwm", "a *:* rwm": the kernel's own form.
std::string to_string(const device_rule& rule);

// mknod of any node; /dev/null, zero, full, random, urandom, tty, console,
// ptmx and every pty.
const std::vector<device_rule>& default_device_rules();

}  // namespace ringcri::exec::cgroups
