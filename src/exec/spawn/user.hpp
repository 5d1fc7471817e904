#pragma once
// The process's user: supplementary groups, gid, uid.

#include "base/error.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec::spawn_detail {

// setgroups(additional_gids, or none), setresgid, setresuid, in that order
// (after setresuid, changing groups would need privilege no longer held).
result<void> set_user(const user_spec& user);

}  // namespace ringcri::exec::spawn_detail
