// User, capabilities, no_new_privs and seccomp, applied in the child.

#include "exec/spawn/confinement.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <vector>

namespace ringcri::exec::spawn_detail {

namespace {

int last_capability() {
  static const int last = static_cast<int>(cap_max_bits()) - 1;
  return last;
}

std::uint64_t mask_of(const std::vector<std::string>& names) {
  std::uint64_t mask = 0;
  for (const std::string& name : names) {
    cap_value_t value;
    if (cap_from_name(name.c_str(), &value) < 0) continue;
    if (value < 0 || value > last_capability() || value >= 64) continue;
    mask |= std::uint64_t{1} << value;
  }
  return mask;
}

bool has(std::uint64_t mask, int cap) { return (mask >> cap) & 1; }

result<void> drop_bounding_set(std::uint64_t bounding) {
  for (int cap = 0; cap <= last_capability(); ++cap) {
    if (has(bounding, cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      return fail_errno(errno, fmt::format("drop capability {} from the bounding set", cap));
  }
  return {};
}

// Keeps the permitted set across the coming setresuid, or stops keeping it.
result<void> keep_capabilities(bool keep) {
  if (::prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) < 0)
    return fail_errno(errno, "prctl PR_SET_KEEPCAPS");
  return {};
}

// setgroups, setresgid, setresuid, in that order: after setresuid,
// changing groups would need a privilege no longer held.
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

// Effective, permitted and inheritable, then the ambient set raised.
result<void> apply_capabilities(const capability_masks& caps) {
  cap_t state = cap_init();
  if (!state) return fail_errno(errno, "cap_init");
  for (int cap = 0; cap <= last_capability(); ++cap) {
    cap_value_t value = cap;
    if (has(caps.effective, cap)) cap_set_flag(state, CAP_EFFECTIVE, 1, &value, CAP_SET);
    if (has(caps.permitted, cap)) cap_set_flag(state, CAP_PERMITTED, 1, &value, CAP_SET);
    if (has(caps.inheritable, cap)) cap_set_flag(state, CAP_INHERITABLE, 1, &value, CAP_SET);
  }
  int rc = cap_set_proc(state);
  int e = errno;
  cap_free(state);
  if (rc < 0) return fail_errno(e, "capset");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    return fail_errno(errno, "clear the ambient capabilities");
  for (int cap = 0; cap <= last_capability(); ++cap) {
    if (!has(caps.ambient, cap)) continue;
    // Raising needs the cap in permitted and inheritable; like runc, a
    // spec asking for one that is not there is ignored, not fatal.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM)
      return fail_errno(errno, fmt::format("raise ambient capability {}", cap));
  }
  return {};
}

}  // namespace

capability_masks parse_capabilities(const capabilities_spec& spec) {
  return capability_masks{mask_of(spec.bounding), mask_of(spec.effective), mask_of(spec.permitted),
                          mask_of(spec.inheritable), mask_of(spec.ambient)};
}

result<prepared_confinement> prepare_confinement(const process_spec& process) {
  prepared_confinement p;
  p.caps = parse_capabilities(process.capabilities);
  if (process.seccomp) {
    auto program = compile_seccomp(*process.seccomp);
    if (!program) return tl::unexpected(program.error());
    p.seccomp = std::move(*program);
  }
  return p;
}

result<void> confine(const process_spec& process, const prepared_confinement& prepared) {
  // First: either filter may come before anything else that could fail.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return fail_errno(errno, "close_range CLOSE_RANGE_CLOEXEC");
  if (prepared.seccomp && !process.no_new_privileges)
    if (auto r = load_seccomp(*prepared.seccomp); !r) return r;
  if (auto r = drop_bounding_set(prepared.caps.bounding); !r) return r;
  if (auto r = keep_capabilities(true); !r) return r;
  if (auto r = set_user(process.user); !r) return r;
  if (auto r = keep_capabilities(false); !r) return r;
  if (auto r = apply_capabilities(prepared.caps); !r) return r;
  if (process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return fail_errno(errno, "prctl PR_SET_NO_NEW_PRIVS");
  if (prepared.seccomp && process.no_new_privileges)
    if (auto r = load_seccomp(*prepared.seccomp); !r) return r;
  return {};
}

result<void> drop_all_capabilities() {
  if (auto r = drop_bounding_set(0); !r) return r;
  return apply_capabilities(capability_masks{});
}

}  // namespace ringcri::exec::spawn_detail
