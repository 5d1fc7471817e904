#include "metrics/metrics.hpp"

namespace ringcri::metrics {

void registry::add(collector c) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(c));
}

std::vector<family> registry::collect() const {
  std::vector<collector> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  std::vector<family> out;
  for (const auto& c : collectors) c(out);
  return out;
}

registry& default_registry() {
  static registry r;
  return r;
}

}  // namespace ringcri::metrics
