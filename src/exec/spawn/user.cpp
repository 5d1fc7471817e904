// Switching the spawned process to the spec's user.

#include "exec/spawn/user.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <unistd.h>

#include <vector>

namespace ringcri::exec::spawn_detail {

result<void> set_user(const user_spec& user) {
  std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
  if (::setgroups(groups.size(), groups.data()) < 0)
    return fail_errno(errno, fmt::format("setgroups ({} groups)", groups.size()));
  if (::setresgid(user.gid, user.gid, user.gid) < 0)
    return fail_errno(errno, fmt::format("setresgid {}", user.gid));
  if (::setresuid(user.uid, user.uid, user.uid) < 0)
    return fail_errno(errno, fmt::format("setresuid {}", user.uid));
  return {};
}

}  // namespace ringcri::exec::spawn_detail
