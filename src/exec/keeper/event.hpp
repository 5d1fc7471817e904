#pragma once
// A one-shot event for coroutines on one reactor: wait() suspends until
// set(); waiters resume from the loop, not from inside set().

#include <coroutine>
#include <vector>

#include "reactor/reactor.hpp"

namespace ringcri::exec::keeper {

class event {
 public:
  event() = default;
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  void set() {
    if (set_) return;
    set_ = true;
    auto* r = reactor::reactor::current();
    for (auto h : waiters_) r->schedule(h);
    waiters_.clear();
    waiters_.shrink_to_fit();
  }
  bool is_set() const noexcept { return set_; }

  auto wait() {
    struct awaiter {
      event* e;
      bool await_ready() const noexcept { return e->set_; }
      void await_suspend(std::coroutine_handle<> h) { e->waiters_.push_back(h); }
      void await_resume() const noexcept {}
    };
    return awaiter{this};
  }

 private:
  bool set_ = false;
  std::vector<std::coroutine_handle<>> waiters_;
};

}  // namespace ringcri::exec::keeper
