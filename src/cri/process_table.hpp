#pragma once
// The pidfd of every container process the daemon knows alive, by
// container id (and of each pod's init, by pod id). The keeper hands them
// over at create and again after a restart (list). Signals go through
// them (pidfd_send_signal), so a recycled pid can never be hit.

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/unique_fd.hpp"

namespace ringcri::cri {

class process_table {
 public:
  using pidfd_ref = std::shared_ptr<const unique_fd>;

  void put(const std::string& id, unique_fd pidfd) {
    auto ref = std::make_shared<const unique_fd>(std::move(pidfd));
    std::lock_guard lock(mutex_);
    pidfds_[id] = std::move(ref);
  }
  // Null when the process is not known alive.
  pidfd_ref get(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = pidfds_.find(id);
    return it == pidfds_.end() ? nullptr : it->second;
  }
  void erase(const std::string& id) {
    std::lock_guard lock(mutex_);
    pidfds_.erase(id);
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, pidfd_ref> pidfds_;
};

}  // namespace ringcri::cri
