#include "reactor/blocking.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <pthread.h>

#include "reactor/pool.hpp"

namespace ringcri::reactor {

namespace {

// Threads that may block. A plain mutex queue: the work itself takes far
// longer than the hand-off.
class blocking_pool {
 public:
  blocking_pool() {
    unsigned n = std::max(2u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) {
      // Made by the first reactor thread that needs the pool, pinned to
      // one core: without this, all blocking work, and every program it
      // starts, would share that core.
      threads_.emplace_back([this] {
        const cpu_set_t cpus = process_cpus();
        ::pthread_setaffinity_np(::pthread_self(), sizeof cpus, &cpus);
        work();
      });
      pthread_setname_np(threads_.back().native_handle(), "blocking");
    }
  }
  ~blocking_pool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void submit(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

void submit_blocking(std::function<void()> job) {
  static blocking_pool pool;
  pool.submit(std::move(job));
}

}  // namespace ringcri::reactor
