#pragma once
// Capabilities: names parsed in the parent ("CAP_CHOWN" -> 0), applied in
// the child in runc's order around the user switch.

#include <cstdint>
#include <vector>

#include "base/error.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec::spawn_detail {

// Each set as a bit mask over capability numbers. Names the kernel or
// libcap does not know are skipped, as runc does for a newer profile.
struct capability_masks {
  std::uint64_t bounding = 0;
  std::uint64_t effective = 0;
  std::uint64_t permitted = 0;
  std::uint64_t inheritable = 0;
  std::uint64_t ambient = 0;
};

capability_masks parse_capabilities(const capabilities_spec& spec);

// Drops every capability outside `bounding` from the bounding set.
result<void> drop_bounding_set(const capability_masks& caps);

// Keeps the permitted set across the coming setresuid (PR_SET_KEEPCAPS),
// or stops keeping it.
result<void> keep_capabilities(bool keep);

// Sets effective, permitted and inheritable, then raises the ambient set.
result<void> apply_capabilities(const capability_masks& caps);

}  // namespace ringcri::exec::spawn_detail
