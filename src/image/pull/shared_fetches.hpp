#pragma once
// shared_fetches: two pulls that need the same layer at once share one
// fetch. The first to ask leads (fetches and unpacks); the others wait and
// get the leader's outcome, each resumed on its own reactor.
//
//   auto turn = co_await fetches.join(diff_id);
//   if (!turn.leads) co_return turn.outcome;    // someone else did it
//   auto r = co_await fetch_and_unpack();
//   fetches.done(diff_id, r);

#include <coroutine>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::image {

class shared_fetches {
 public:
  struct turn {
    bool leads = false;
    result<void> outcome;  // the leader's, for a follower
  };

 private:
  struct waiter {
    reactor::reactor* home;
    std::coroutine_handle<> handle;
    result<void>* outcome;
  };
  struct fetch {
    std::vector<waiter> waiters;
  };

 public:
  class [[nodiscard]] join_awaiter {
   public:
    join_awaiter(shared_fetches& owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    bool await_ready() {
      std::lock_guard lock(owner_.mutex_);
      auto [it, inserted] = owner_.fetches_.try_emplace(key_);
      if (inserted) result_.leads = true;
      return inserted;
    }
    bool await_suspend(std::coroutine_handle<> h) {
      std::lock_guard lock(owner_.mutex_);
      auto it = owner_.fetches_.find(key_);
      if (it == owner_.fetches_.end()) {
        // The leader finished between await_ready and now: lead a new one.
        owner_.fetches_.try_emplace(key_);
        result_.leads = true;
        return false;
      }
      it->second.waiters.push_back({reactor::reactor::current(), h, &result_.outcome});
      return true;
    }
    turn await_resume() { return std::move(result_); }

   private:
    shared_fetches& owner_;
    std::string key_;
    turn result_{false, {}};
  };

  join_awaiter join(std::string key) { return join_awaiter(*this, std::move(key)); }

  // The leader is done: every follower gets `outcome`.
  void done(const std::string& key, const result<void>& outcome) {
    std::vector<waiter> waiters;
    {
      std::lock_guard lock(mutex_);
      auto it = fetches_.find(key);
      if (it == fetches_.end()) return;
      waiters = std::move(it->second.waiters);
      fetches_.erase(it);
    }
    for (auto& w : waiters) {
      *w.outcome = outcome;
      auto h = w.handle;
      if (w.home) w.home->post([h] { h.resume(); });
      else h.resume();
    }
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, fetch> fetches_;
};

}  // namespace ringcri::image
