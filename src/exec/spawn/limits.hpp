#pragma once
// Resource limits of the spawned process: rlimits and oom_score_adj.

#include <optional>
#include <vector>

#include "base/error.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec::spawn_detail {

// setrlimit for each; an unknown name or a refusal is an error naming it.
result<void> apply_rlimits(const std::vector<rlimit_spec>& rlimits);

// Writes /proc/self/oom_score_adj. Lowering it needs CAP_SYS_RESOURCE;
// without it the value stays where it is (clamped, as containerd does)
// rather than failing the container.
result<void> set_oom_score_adj(std::optional<int> value);

}  // namespace ringcri::exec::spawn_detail
