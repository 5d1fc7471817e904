#include "exec/cgroups/favordynmods.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>

#include <algorithm>

#include "base/unique_fd.hpp"

namespace ringcri::exec::cgroups {

result<favordynmods_outcome> favor_dynamic_changes(const cgroup_mount& unified) {
  const auto& opts = unified.options;
  if (std::find(opts.begin(), opts.end(), "favordynmods") != opts.end())
    return favordynmods_outcome::already_on;
  const std::string what = fmt::format("set favordynmods on \"{}\"", unified.mount_point);
  // fspick changes the hierarchy, not the mount's own flags. A cgroup2
  // reconfiguration sets every flag it is given and clears the others, so
  // the ones it has (nsdelegate, memory_recursiveprot...) go in again.
  unique_fd fs(::fspick(AT_FDCWD, unified.mount_point.c_str(), FSPICK_CLOEXEC | FSPICK_NO_AUTOMOUNT));
  if (!fs) return fail_errno(errno, what + ": fspick");
  for (const std::string& opt : opts) {
    if (opt == "rw" || opt == "ro") continue;
    if (::fsconfig(fs.get(), FSCONFIG_SET_FLAG, opt.c_str(), nullptr, 0) < 0)
      return fail_errno(errno, fmt::format("{}: keep \"{}\"", what, opt));
  }
  if (::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "favordynmods", nullptr, 0) < 0)
    return fail_errno(errno, what);
  if (::fsconfig(fs.get(), FSCONFIG_CMD_RECONFIGURE, nullptr, nullptr, 0) < 0)
    return fail_errno(errno, what);
  return favordynmods_outcome::switched_on;
}

}  // namespace ringcri::exec::cgroups
