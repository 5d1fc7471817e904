#pragma once
// key_sequencer: orders the writes of one key, across coroutines and
// reactor threads.
//
// At most one write per key is in flight. A caller that comes while one is
// running waits, and only the newest waiter's value is ever written next:
// the values in between are superseded before they reach the disk. When a
// write ends, every waiter that entered before it is answered with that
// write's outcome (its own value is either that one or older), and the
// newest waiter, if any, is woken to write its value. So the order in which
// callers enter is the order their values land in, and an older value
// never overwrites a newer one.
//
//   auto t = co_await seq.enter(key);
//   if (!t.must_write) co_return std::move(*t.outcome);
//   auto r = co_await write_it();
//   seq.leave(key, t, r);
//
// A waiter is resumed on the reactor it entered from (post() when that is
// another thread). The mutex covers the bookkeeping only, never I/O.
// A caller that entered must run on to leave() (or to its answer): its
// frame must not be destroyed while it waits.

#include <coroutine>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/error.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::cri::store {

class key_sequencer {
 public:
  // What enter() hands back: either the caller now writes its value (and
  // must call leave() after), or its value is settled by a write that
  // covered it, with that write's outcome.
  struct turn {
    std::uint64_t seq = 0;
    bool must_write = false;
    std::optional<result<void>> outcome;
  };

  key_sequencer() = default;
  key_sequencer(const key_sequencer&) = delete;
  key_sequencer& operator=(const key_sequencer&) = delete;

 private:
  struct waiter {
    std::uint64_t seq = 0;
    reactor::reactor* home = nullptr;
    std::coroutine_handle<> handle;
    bool must_write = false;
    std::optional<result<void>> outcome;
  };

 public:
  class [[nodiscard]] enter_awaiter {
   public:
    enter_awaiter(key_sequencer& owner, const std::string& key) noexcept
        : owner_(owner), key_(key) {}
    bool await_ready() const noexcept { return false; }
    // Takes the lock; suspends only when another write of the key runs.
    bool await_suspend(std::coroutine_handle<> h);
    turn await_resume() noexcept {
      return turn{self_.seq, self_.must_write, std::move(self_.outcome)};
    }

   private:
    key_sequencer& owner_;
    const std::string& key_;
    waiter self_;
  };

  // co_await enter(key): `key` must outlive the await.
  enter_awaiter enter(const std::string& key) noexcept { return enter_awaiter(*this, key); }

  // Ends the write of `t` with `outcome`: answers the waiters it covers
  // and hands the key to the newest waiter left, if any.
  void leave(const std::string& key, const turn& t, const result<void>& outcome);

  // Keys with a write in flight (for tests).
  std::size_t busy_keys() const;

 private:
  // A key with a write in flight. Waiters are kept in the order they came,
  // which is the order of their sequence numbers.
  struct lane {
    std::uint64_t writing = 0;
    std::vector<waiter*> waiters;
  };

  static void wake(waiter& w);

  mutable std::mutex mu_;
  std::uint64_t next_seq_ = 0;
  // Cost: one node (and the key's copy) per key with a write in flight;
  // erased when the key goes idle.
  std::unordered_map<std::string, lane> lanes_;
};

}  // namespace ringcri::cri::store
