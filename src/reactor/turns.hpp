#pragma once
// turns: one reactor's coroutines taking turns on a key, as a read-write
// lock per key. Exclusive turns of a key run one at a time; shared turns
// run together, but never beside an exclusive one. Turns are given in the
// order they were asked for (a waiting exclusive turn holds back shared
// ones asked after it), so nobody starves.
//
//   auto turn = co_await turns.exclusive(pod_id);   // held until `turn` goes
//
// Single-reactor: every call for one `turns` object comes from the same
// reactor thread (a waiter is resumed through that reactor's queue). A key
// nobody holds or waits for takes no memory.

#include <coroutine>
#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

#include "reactor/reactor.hpp"

namespace ringcri::reactor {

class turns {
 public:
  // Held while alive; movable, not copyable.
  class turn {
   public:
    turn() = default;
    turn(turns* owner, std::string key, bool exclusive)
        : owner_(owner), key_(std::move(key)), exclusive_(exclusive) {}
    turn(turn&& o) noexcept : owner_(o.owner_), key_(std::move(o.key_)), exclusive_(o.exclusive_) {
      o.owner_ = nullptr;
    }
    turn& operator=(turn&& o) noexcept {
      if (this != &o) {
        release();
        owner_ = o.owner_;
        key_ = std::move(o.key_);
        exclusive_ = o.exclusive_;
        o.owner_ = nullptr;
      }
      return *this;
    }
    turn(const turn&) = delete;
    turn& operator=(const turn&) = delete;
    ~turn() { release(); }

   private:
    void release() {
      if (owner_) owner_->leave(key_, exclusive_);
      owner_ = nullptr;
    }
    turns* owner_ = nullptr;
    std::string key_;
    bool exclusive_ = false;
  };

  turns() = default;
  turns(const turns&) = delete;
  turns& operator=(const turns&) = delete;

  auto exclusive(std::string key) { return awaiter{this, std::move(key), true}; }
  auto shared(std::string key) { return awaiter{this, std::move(key), false}; }

  // Keys held or waited for (for tests and leak checks).
  std::size_t busy_keys() const { return keys_.size(); }

 private:
  struct waiter {
    std::coroutine_handle<> handle;
    bool exclusive;
  };
  struct state {
    std::size_t shared_holders = 0;
    bool exclusive_holder = false;
    std::deque<waiter> waiting;
  };

  struct awaiter {
    turns* t;
    std::string key;
    bool exclusive;
    bool await_ready() { return t->try_enter(key, exclusive); }
    void await_suspend(std::coroutine_handle<> h) { t->keys_[key].waiting.push_back({h, exclusive}); }
    // Resumed only once the turn was handed over (leave() counted it).
    turn await_resume() { return turn(t, std::move(key), exclusive); }
  };

  bool try_enter(const std::string& key, bool exclusive) {
    auto [it, fresh] = keys_.try_emplace(key);
    state& s = it->second;
    if (!s.waiting.empty() || s.exclusive_holder || (exclusive && s.shared_holders > 0)) return false;
    if (exclusive)
      s.exclusive_holder = true;
    else
      ++s.shared_holders;
    (void)fresh;
    return true;
  }

  void leave(const std::string& key, bool exclusive) {
    auto it = keys_.find(key);
    if (it == keys_.end()) return;
    state& s = it->second;
    if (exclusive)
      s.exclusive_holder = false;
    else
      --s.shared_holders;
    // Hand over in order: one exclusive waiter once nobody holds the key,
    // or every shared waiter up to the next exclusive one.
    auto* r = reactor::current();
    while (!s.waiting.empty() && !s.exclusive_holder) {
      waiter& next = s.waiting.front();
      if (next.exclusive) {
        if (s.shared_holders > 0) break;
        s.exclusive_holder = true;
      } else {
        ++s.shared_holders;
      }
      r->schedule(next.handle);
      s.waiting.pop_front();
    }
    if (!s.exclusive_holder && s.shared_holders == 0 && s.waiting.empty()) keys_.erase(it);
  }

  std::unordered_map<std::string, state> keys_;
};

}  // namespace ringcri::reactor
