// Capability names to numbers (libcap) and the child's capability steps.

#include "exec/spawn/capabilities.hpp"

#include <fmt/format.h>
#include <sys/capability.h>
#include <sys/prctl.h>

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
}  // namespace

capability_masks parse_capabilities(const capabilities_spec& spec) {
  return capability_masks{mask_of(spec.bounding), mask_of(spec.effective), mask_of(spec.permitted),
                          mask_of(spec.inheritable), mask_of(spec.ambient)};
}

result<void> drop_bounding_set(const capability_masks& caps) {
  for (int cap = 0; cap <= last_capability(); ++cap) {
    if (has(caps.bounding, cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      return fail_errno(errno, fmt::format("drop capability {} from the bounding set", cap));
  }
  return {};
}

result<void> keep_capabilities(bool keep) {
  if (::prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) < 0)
    return fail_errno(errno, "prctl PR_SET_KEEPCAPS");
  return {};
}

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

}  // namespace ringcri::exec::spawn_detail
