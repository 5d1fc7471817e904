#include "cri/stats/cpu_rate.hpp"

namespace ringcri::cri::stats {

namespace {
// Samples older than this are of containers long gone: dropped.
constexpr std::int64_t stale_ns = 10LL * 60 * 1000 * 1000 * 1000;
}  // namespace

std::optional<std::uint64_t> cpu_rate::nano_cores(const std::string& id, std::int64_t now_ns,
                                                  std::uint64_t usage_ns) {
  std::lock_guard lock(mutex_);
  std::optional<std::uint64_t> rate;
  if (auto it = last_.find(id); it != last_.end()) {
    const auto& prev = it->second;
    if (now_ns > prev.at_ns && usage_ns >= prev.usage_ns)
      rate = static_cast<std::uint64_t>(static_cast<double>(usage_ns - prev.usage_ns) * 1e9 /
                                        static_cast<double>(now_ns - prev.at_ns));
  }
  if (last_.size() > 1024) std::erase_if(last_, [&](const auto& kv) { return now_ns - kv.second.at_ns > stale_ns; });
  last_[id] = {now_ns, usage_ns};
  return rate;
}

}  // namespace ringcri::cri::stats
