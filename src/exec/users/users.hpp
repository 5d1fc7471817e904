#pragma once
// Who a container's process runs as: the uid, gid and supplementary groups
// that follow from the image's "User", the CRI security context and the
// image's own /etc/passwd and /etc/group (read from the layer dirs, see
// rootfs_files.hpp). The rules are containerd's, so a pod runs as the same
// user under ringcri as under containerd:
//
// - A CRI run_as_username or run_as_user replaces the image's User
//   entirely (its group part too); run_as_group joins it as the group. A
//   run_as_group without a user is refused.
// - "uid" is taken as is: its gid comes from /etc/passwd when the uid is
//   listed there, else 0. "name" must be listed in /etc/passwd.
// - "user:group": a numeric part is taken as is, a name is looked up
//   (the group in /etc/group); an unknown name is an error naming it.
// - Supplementary groups (policy merge): the groups of /etc/group that list
//   the user's name as a member, plus the primary gid (containerd keeps it
//   in the set since the fix of CVE-2023-25173), plus the CRI
//   supplemental_groups, deduplicated and sorted. Policy strict leaves out
//   the /etc/group memberships.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec {

// CRI's SupplementalGroupsPolicy.
enum class supplemental_groups_policy { merge, strict };

result<user_spec> resolve_user(
    const std::vector<std::string>& layers_top_first, std::string_view image_user,
    std::optional<std::uint32_t> run_as_uid, std::optional<std::string> run_as_username,
    std::optional<std::uint32_t> run_as_gid, const std::vector<std::uint32_t>& supplemental_groups,
    supplemental_groups_policy policy = supplemental_groups_policy::merge);

}  // namespace ringcri::exec
