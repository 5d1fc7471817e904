#pragma once
// A value that one thread replaces while others read it: a reader takes a
// snapshot (a shared_ptr to an immutable copy) and keeps it as long as it
// needs a consistent view; a replacement does not touch snapshots taken.
// For settings a reload changes (SIGHUP) under calls in flight.

#include <memory>
#include <mutex>

namespace ringcri {

template <class T>
class swappable {
 public:
  explicit swappable(T value) : value_(std::make_shared<const T>(std::move(value))) {}

  std::shared_ptr<const T> get() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

  void set(T value) {
    auto next = std::make_shared<const T>(std::move(value));
    std::lock_guard lock(mutex_);
    value_.swap(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace ringcri
