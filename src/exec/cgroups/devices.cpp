#include "exec/cgroups/devices.hpp"

#include <fmt/format.h>

#include "exec/cgroups/cgroup_files.hpp"
#include "exec/cgroups/device_program.hpp"
#include "exec/cgroups/hierarchy.hpp"

namespace ringcri::exec::cgroups {

std::string to_string(const device_rule& rule) {
  // Only -1 is "any"; another negative number is shown as it is, so the
  // error refusing it names it.
  auto number = [](std::int64_t n) { return n == -1 ? std::string("*") : std::to_string(n); };
  return fmt::format("{} {}:{} {}", rule.type, number(rule.major), number(rule.minor), rule.access);
}

const std::vector<device_rule>& default_device_rules() {
  static const std::vector<device_rule> rules = {
      {'c', -1, -1, "m"},  {'b', -1, -1, "m"},                                          // mknod
      {'c', 1, 3, "rwm"},  {'c', 1, 5, "rwm"},  {'c', 1, 7, "rwm"},                      // null zero full
      {'c', 1, 8, "rwm"},  {'c', 1, 9, "rwm"},                                           // random urandom
      {'c', 5, 0, "rwm"},  {'c', 5, 1, "rwm"},  {'c', 5, 2, "rwm"},  {'c', 136, -1, "rwm"},  // tty console ptmx pts
  };
  return rules;
}

result<bool> hierarchy::limit_devices(std::string_view path, const std::vector<device_rule>& allowed) const {
  bool enforced = false;
  // v1's devices controller, where one is mounted.
  if (const cgroup_mount* devices = mount_of("devices"); devices != nullptr && !devices->unified) {
    const std::string dir = dir_of(*devices, path);
    if (!detail::exists(dir))
      return fail(error_kind::not_found, fmt::format("device rules of cgroup {}: no such cgroup", dir));
    if (auto denied = detail::write_control(dir + "/devices.deny", "a"); !denied)
      return tl::unexpected(denied.error());
    for (const auto& rule : allowed) {
      if (auto ok = detail::write_control(dir + "/devices.allow", to_string(rule)); !ok)
        return tl::unexpected(ok.error());
    }
    enforced = true;
  }
  // The program in the unified hierarchy: what confines on pure v2, and on
  // a hybrid node a second guard that holds whichever hierarchy a process
  // of the container is moved in. The kernel runs it before v1's check.
  if (const cgroup_mount* v2 = unified(); v2 != nullptr) {
    const std::string dir = dir_of(*v2, path);
    if (!detail::exists(dir))
      return fail(error_kind::not_found, fmt::format("device rules of cgroup {}: no such cgroup", dir));
    if (auto attached = attach_device_program(dir, allowed); !attached)
      return tl::unexpected(attached.error());
    enforced = true;
  }
  return enforced;
}

}  // namespace ringcri::exec::cgroups
