#pragma once
// usage_nano_cores: the CPU a container or pod used per second of wall
// time since the previous stats call about it, as containerd computes it
// (the kubelet shows it as the CPU in use). The first call has no rate.
// Thread-safe: stats calls run on every reactor.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ringcri::cri::stats {

class cpu_rate {
 public:
  // Records (`now_ns`, `usage_ns`) for `id` and returns the rate since the
  // one before, in nanoseconds of CPU per second.
  std::optional<std::uint64_t> nano_cores(const std::string& id, std::int64_t now_ns, std::uint64_t usage_ns);

 private:
  struct sample {
    std::int64_t at_ns;
    std::uint64_t usage_ns;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, sample> last_;
};

}  // namespace ringcri::cri::stats
