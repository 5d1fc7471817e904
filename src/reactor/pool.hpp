#pragma once
// reactor_pool: one reactor thread per core, each pinned to its core.
// Any thread may post work to a core or move a coroutine onto it.

#include <sched.h>

#include <coroutine>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "reactor/reactor.hpp"

namespace ringcri::reactor {

struct pool_options {
  unsigned threads = 0;  // 0: one per core this process may run on
  bool pin = true;       // pin thread i to the i-th allowed core
  reactor_options ring;
};

class reactor_pool {
 public:
  explicit reactor_pool(pool_options options = {});
  reactor_pool(const reactor_pool&) = delete;
  reactor_pool& operator=(const reactor_pool&) = delete;
  // Stops every reactor and waits for in-flight work to drain.
  ~reactor_pool();

  unsigned size() const noexcept { return static_cast<unsigned>(slots_.size()); }
  reactor& at(unsigned core) { return *slots_.at(core)->r; }

  // Thread-safe: run `fn` on `core`'s reactor thread.
  void post(unsigned core, std::function<void()> fn) { at(core).post(std::move(fn)); }

  // Thread-safe: start the task that `make` returns on `core`. The task is
  // created on that thread, so its frame is allocated there.
  void spawn(unsigned core, std::function<task<void>()> make);

  // From a thread outside the pool (start-up, shutdown): runs the task that
  // `make` returns on `core` and waits for its value.
  template <class T, class Make>
  T wait_for(unsigned core, Make make) {
    std::promise<T> done;
    auto answer = done.get_future();
    spawn(core, [&make, &done] { return deliver<T>(make, done); });
    return answer.get();
  }

  // co_await pool.hop(core): resume the awaiting coroutine on `core`.
  auto hop(unsigned core) {
    struct awaiter {
      reactor_pool& pool;
      unsigned core;
      bool await_ready() const noexcept { return reactor::current() == &pool.at(core); }
      void await_suspend(std::coroutine_handle<> h) { pool.post(core, [h] { h.resume(); }); }
      void await_resume() const noexcept {}
    };
    return awaiter{*this, core};
  }

  // Asks every reactor to stop; join() waits for them.
  void stop();
  void join();

 private:
  template <class T, class Make>
  static task<void> deliver(Make& make, std::promise<T>& done) {
    done.set_value(co_await make());
  }

  // The pool owns each reactor and frees it only after join(), so a post()
  // racing the loop's exit never touches a freed reactor.
  struct slot {
    std::thread thread;
    std::unique_ptr<reactor> r;
  };
  std::vector<std::unique_ptr<slot>> slots_;
};

// The cores the calling thread may run on (its affinity mask), in order.
std::vector<unsigned> allowed_cores();

// The process's CPUs: its main thread's, which no reactor pins. A thread
// or a child made by a reactor thread starts pinned to that one core, and
// takes these instead.
cpu_set_t process_cpus();

}  // namespace ringcri::reactor
