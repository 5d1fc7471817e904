#include "cri/context.hpp"

#include <functional>

namespace ringcri::cri {

unsigned context::core_of(const sandbox_id& pod) const {
  return static_cast<unsigned>(std::hash<std::string>{}(pod.value) % pool.size());
}

unsigned context::any_core() { return next_core_.fetch_add(1, std::memory_order_relaxed) % pool.size(); }

}  // namespace ringcri::cri
