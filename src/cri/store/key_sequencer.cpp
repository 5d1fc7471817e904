#include "cri/store/key_sequencer.hpp"

#include <cassert>

namespace ringcri::cri::store {

bool key_sequencer::enter_awaiter::await_suspend(std::coroutine_handle<> h) {
  std::lock_guard lock(owner_.mu_);
  self_.seq = ++owner_.next_seq_;
  auto [it, idle] = owner_.lanes_.try_emplace(key_);
  if (idle) {
    // Nobody writes this key: the caller writes at once, without suspending.
    it->second.writing = self_.seq;
    self_.must_write = true;
    return false;
  }
  self_.home = reactor::reactor::current();
  assert(self_.home && "the store is used from reactor threads");
  self_.handle = h;
  it->second.waiters.push_back(&self_);
  return true;
}

void key_sequencer::leave(const std::string& key, const turn& t, const result<void>& outcome) {
  std::vector<waiter*> woken;
  {
    std::lock_guard lock(mu_);
    auto it = lanes_.find(key);
    assert(it != lanes_.end() && it->second.writing == t.seq);
    auto& waiters = it->second.waiters;
    // Those that came before this write's value are settled by it.
    std::size_t covered = 0;
    while (covered < waiters.size() && waiters[covered]->seq <= t.seq) {
      waiters[covered]->outcome = outcome;
      woken.push_back(waiters[covered]);
      ++covered;
    }
    waiters.erase(waiters.begin(), waiters.begin() + static_cast<std::ptrdiff_t>(covered));
    if (waiters.empty()) {
      lanes_.erase(it);
    } else {
      // The newest value is the only one worth writing; the waiters before
      // it stay and are settled by its write.
      waiter* next = waiters.back();
      waiters.pop_back();
      next->must_write = true;
      it->second.writing = next->seq;
      woken.push_back(next);
    }
  }
  for (waiter* w : woken) wake(*w);
}

void key_sequencer::wake(waiter& w) {
  // Read what we need before resuming: once resumed, `w` is gone.
  w.home->resume(w.handle);
}

std::size_t key_sequencer::busy_keys() const {
  std::lock_guard lock(mu_);
  return lanes_.size();
}

}  // namespace ringcri::cri::store
