#pragma once
// Resource limits of the spawned process: rlimits. (Its oom_score_adj is
// base/sys/oom_score_adj.hpp's.)

#include <optional>
#include <vector>

#include "base/error.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec::spawn_detail {

// setrlimit for each; an unknown name or a refusal is an error naming it.
result<void> apply_rlimits(const std::vector<rlimit_spec>& rlimits);

}  // namespace ringcri::exec::spawn_detail
