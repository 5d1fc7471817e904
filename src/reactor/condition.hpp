#pragma once
// A condition for coroutines on one reactor: wait() suspends until the
// next notify_all(). Waiters resume from the loop, not inside notify_all(),
// so the notifier finishes what it was doing first. Check the awaited
// state again after waking, as with any condition variable.

#include <coroutine>
#include <functional>
#include <vector>

#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/task.hpp"
#include "reactor/when_all.hpp"

namespace ringcri::reactor {

class condition {
 public:
  condition() = default;
  condition(const condition&) = delete;
  condition& operator=(const condition&) = delete;

  void notify_all() {
    if (waiters_.empty()) return;
    auto* r = reactor::current();
    for (auto h : waiters_) r->schedule(h);
    waiters_.clear();
  }

  auto wait() {
    struct awaiter {
      condition* c;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { c->waiters_.push_back(h); }
      void await_resume() const noexcept {}
    };
    return awaiter{this};
  }

  bool has_waiters() const noexcept { return !waiters_.empty(); }

 private:
  std::vector<std::coroutine_handle<>> waiters_;
};

// Waits on `c` until `done()` holds or `deadline` passes; returns done().
// Whoever makes done() true must notify `c`.
inline task<bool> wait_until(condition& c, const std::function<bool()>& done, clock::time_point deadline) {
  if (done()) co_return true;
  cancellation finished;
  bool timed_out = false;
  auto waiter = [&]() -> task<void> {
    while (!done() && !timed_out) co_await c.wait();
    finished.cancel();
  };
  auto timer = [&]() -> task<void> {
    auto slept = co_await sleep_until(deadline).with_cancel(finished);
    if (finished.cancelled()) co_return;
    (void)slept;
    timed_out = true;
    c.notify_all();
  };
  co_await when_all(waiter(), timer());
  co_return done();
}

}  // namespace ringcri::reactor
