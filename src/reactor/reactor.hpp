#pragma once
// reactor: one io_uring and the loop that drives it, for one thread.
// Coroutines on this thread await ops (see ops.hpp); the loop submits them
// in batches and resumes each coroutine when its completion arrives.
// Other threads reach a reactor only through post().

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::reactor {

struct reactor_options {
  unsigned sq_entries = 256;
  unsigned cq_entries = 4096;
  // Ask for IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN; dropped quietly
  // when the kernel refuses them.
  bool single_issuer = true;
};

class reactor {
 public:
  explicit reactor(reactor_options options = {});
  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;
  ~reactor();

  // The reactor of the calling thread, or nullptr.
  static reactor* current() noexcept;

  // Runs the loop until stop() was called and every spawned task has
  // finished.
  void run();

  // Runs the loop until `t` completes, and returns its result.
  template <class T>
  T block_on(task<T> t);

  // Starts `t` on this reactor; it runs to completion on its own. run() waits
  // for it; a reactor destroyed before it ended destroys it, ops cancelled.
  void spawn(task<void> t);

  // Thread-safe: runs `fn` on this reactor's thread.
  void post(std::function<void()> fn);

  // Thread-safe: asks the loop to end. The shutdown token is cancelled (so
  // servers stop accepting), and run() returns once in-flight work drains.
  void stop();

  // Cancelled when stop() is called; long-lived loops carry it on their ops.
  cancellation& shutdown_token() noexcept { return shutdown_; }

  bool stopping() const noexcept { return stop_requested_.load(std::memory_order_acquire); }
  // The setup flags the kernel accepted (IORING_SETUP_*).
  unsigned setup_flags() const noexcept { return setup_flags_; }
  std::size_t ops_in_flight() const noexcept { return in_flight_; }
  std::size_t tasks_running() const noexcept { return live_tasks_; }

  // Resumes `h` from the loop, after the ops that are ready now.
  void schedule(std::coroutine_handle<> h) { ready_.push_back(h); }

  // Thread-safe: resumes `h` on this reactor, from its loop (schedule()
  // when called on its thread, post() from any other).
  void resume(std::coroutine_handle<> h) {
    if (current() == this)
      schedule(h);
    else
      post([h] { h.resume(); });
  }

 private:
  friend class op;
  friend class cancellation;
  struct ring;

  void submit(op& o) noexcept;
  void cancel(op& o) noexcept;
  void cancel_and_wait(op& o) noexcept;
  void forget(op& o) noexcept;

  void run_until(const std::function<bool()>& done);
  void turn(const std::function<bool()>& done);
  void reap(bool wait_for_one);
  void take_completion(std::uint64_t user_data, std::int32_t res, std::uint32_t flags) noexcept;
  void arm_wakeup() noexcept;
  void drain_posted();
  void task_finished() noexcept { --live_tasks_; }
  friend struct detached_promise;

  std::unique_ptr<ring> ring_;
  unsigned setup_flags_ = 0;
  std::thread::id thread_;
  int wake_fd_ = -1;
  std::uint64_t wake_buf_ = 0;
  std::atomic<bool> sleeping_{false};
  std::atomic<unsigned> posting_{0};  // post() calls still inside, see ~reactor
  std::atomic<bool> stop_requested_{false};
  std::size_t in_flight_ = 0;
  std::size_t live_tasks_ = 0;
  std::deque<op*> completed_;  // completions taken from the ring, not yet resumed
  std::deque<std::coroutine_handle<>> ready_;
  cancellation shutdown_;
  struct posted_queue;
  std::unique_ptr<posted_queue> posted_;
};

template <class T>
T reactor::block_on(task<T> t) {
  bool done = false;
  std::exception_ptr failure;
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
  auto driver = [](task<T> t, bool& done, std::exception_ptr& failure,
                   decltype(value)& value) -> task<void> {
    try {
      if constexpr (std::is_void_v<T>) {
        co_await t;
        value.emplace(true);
      } else {
        value.emplace(co_await t);
      }
    } catch (...) {
      failure = std::current_exception();
    }
    done = true;
  };
  spawn(driver(std::move(t), done, failure, value));
  run_until([&] { return done; });
  if (failure) std::rethrow_exception(failure);
  if constexpr (!std::is_void_v<T>) return std::move(*value);
}

// Suspends the calling coroutine and resumes it on the next turn of the
// loop, letting other ready work run first.
struct yield_now {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { reactor::current()->schedule(h); }
  void await_resume() const noexcept {}
};

}  // namespace ringcri::reactor
