// The io_uring loop. This is the one file of the project that includes
// liburing.h.

// First: <linux/fs.h> (pulled in by the ring's headers) defines a
// BLOCK_SIZE macro that breaks the queue's header.
#include <concurrentqueue/concurrentqueue.h>

#include "reactor/reactor.hpp"

#include <liburing.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include <spdlog/spdlog.h>

namespace ringcri::reactor {

namespace {

// user_data values that are not ops.
constexpr std::uint64_t ignored_tag = 0;  // link timeouts, cancel requests
constexpr std::uint64_t wakeup_tag = 1;   // the read on the eventfd that post() writes

thread_local reactor* current_reactor = nullptr;

}  // namespace

// A spawned task's place on its reactor's list of tasks not yet ended. The
// list runs through the frames of their drivers, so spawning allocates
// nothing beyond the driver's frame.
struct spawned_link {
  spawned_link* prev = this;
  spawned_link* next = this;
  std::coroutine_handle<> frame;

  void link_before(spawned_link& at) noexcept {
    prev = at.prev;
    next = &at;
    at.prev->next = this;
    at.prev = this;
  }
  void unlink() noexcept {
    prev->next = next;
    next->prev = prev;
    prev = next = this;
  }
};

struct reactor::ring {
  io_uring uring{};
  spawned_link spawned;  // the list's head: the spawned tasks not yet ended
};

struct reactor::posted_queue {
  moodycamel::ConcurrentQueue<std::function<void()>> queue;
};

struct detached_promise {
  static void ended(reactor& r, spawned_link& link) noexcept {
    link.unlink();
    r.task_finished();
    link.frame.destroy();
  }
};

// A spawned task's driver: owns the task, and sits on its home reactor's
// list until its frame is freed. The frame is freed on the home reactor's
// thread, whose alone the list and the count are: at once when the task
// ends there, by a post() when it ends on another reactor (reactor_pool::
// hop), and by ~reactor when it never ends.
struct detached {
  struct promise_type : spawned_link {
    reactor* home = nullptr;

    detached get_return_object() noexcept {
      return detached{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    auto final_suspend() const noexcept { return ended{}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };

  struct ended {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<promise_type> h) const noexcept {
      reactor* home = h.promise().home;
      spawned_link* link = &h.promise();
      if (reactor::current() == home)
        detached_promise::ended(*home, *link);
      else
        home->post([home, link] { detached_promise::ended(*home, *link); });
    }
    void await_resume() const noexcept {}
  };

  std::coroutine_handle<promise_type> handle;
};

namespace {

detached run_detached(task<void> t) {
  try {
    co_await t;
  } catch (const std::exception& e) {
    spdlog::error("reactor: a spawned task ended with an exception: {}", e.what());
  } catch (...) {
    spdlog::error("reactor: a spawned task ended with an unknown exception");
  }
}

}  // namespace

reactor::reactor(reactor_options options)
    : ring_(std::make_unique<ring>()), posted_(std::make_unique<posted_queue>()) {
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE;
  params.cq_entries = options.cq_entries;
  if (options.single_issuer) {
    params.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  }
  int rc = io_uring_queue_init_params(options.sq_entries, &ring_->uring, &params);
  if (rc == -EINVAL && options.single_issuer) {
    // Kernels before 6.1 know neither flag: fall back to a plain ring.
    spdlog::debug("reactor: SINGLE_ISSUER|DEFER_TASKRUN refused, using a plain ring");
    params = io_uring_params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = options.cq_entries;
    rc = io_uring_queue_init_params(options.sq_entries, &ring_->uring, &params);
  }
  if (rc < 0) throw std::system_error(-rc, std::system_category(), "io_uring_queue_init");
  setup_flags_ = params.flags;

  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    int e = errno;
    io_uring_queue_exit(&ring_->uring);
    throw std::system_error(e, std::system_category(), "eventfd");
  }
  thread_ = std::this_thread::get_id();
  assert(current_reactor == nullptr && "one reactor per thread");
  current_reactor = this;
  arm_wakeup();
}

reactor::~reactor() {
  // A post() from another thread makes its work visible before it writes
  // the wakeup: the work may have run, and this reactor ended, while that
  // thread is still about to write to wake_fd_.
  while (posting_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  // Cancel whatever is still in flight (ops of tasks never finished) and
  // wait for the kernel to let go of them before the ring goes away.
  shutdown_.cancel();
  // Spawned tasks that never ended (a block_on returned before them, or
  // run() never ran) are destroyed, as asio's io_context destroys the
  // handlers it never ran: else their frames, and all they hold, leak.
  // Each op they wait on is cancelled and waited for by its destructor, so
  // this comes before the ring goes. Handles of theirs that are ready or
  // completed are never resumed.
  spawned_link& spawned = ring_->spawned;
  while (spawned.next != &spawned) detached_promise::ended(*this, *spawned.next);
  ready_.clear();
  completed_.clear();
  if (in_flight_ > 0) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_->uring);
    if (sqe) {
      io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data64(sqe, ignored_tag);
    }
    io_uring_submit(&ring_->uring);
  }
  io_uring_queue_exit(&ring_->uring);
  close(wake_fd_);
  if (current_reactor == this) current_reactor = nullptr;
}

reactor* reactor::current() noexcept { return current_reactor; }

// --- submission --------------------------------------------------------------

static io_uring_sqe* next_sqe(io_uring* ring, unsigned needed) {
  if (io_uring_sq_space_left(ring) < needed) io_uring_submit(ring);
  return io_uring_get_sqe(ring);
}

void reactor::submit(op& o) noexcept {
  assert(std::this_thread::get_id() == thread_);
  io_uring* r = &ring_->uring;
  io_uring_sqe* sqe = next_sqe(r, o.has_deadline_ ? 2 : 1);
  *sqe = o.sqe_;
  if (o.kind_ == op::kind::timer) {
    // The timespec lives in the op; its address is final only now.
    sqe->addr = reinterpret_cast<std::uint64_t>(&o.deadline_);
  }
  io_uring_sqe_set_data(sqe, &o);
  if (o.has_deadline_) {
    sqe->flags |= IOSQE_IO_LINK;
    io_uring_sqe* link = io_uring_get_sqe(r);
    io_uring_prep_link_timeout(link, &o.deadline_, IORING_TIMEOUT_ABS);
    io_uring_sqe_set_data64(link, ignored_tag);
  }
  o.in_flight_ = true;
  o.owner_ = this;
  ++in_flight_;
}

void reactor::cancel(op& o) noexcept {
  io_uring_sqe* sqe = next_sqe(&ring_->uring, 1);
  io_uring_prep_cancel(sqe, &o, 0);
  io_uring_sqe_set_data64(sqe, ignored_tag);
}

void reactor::cancel_and_wait(op& o) noexcept {
  // The op's frame is going away: cancel it, then wait for its completion,
  // parking every other completion that arrives meanwhile for the loop.
  o.cancel_requested_ = true;
  cancel(o);
  io_uring* r = &ring_->uring;
  while (o.in_flight_) {
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_submit_and_wait(r, 1);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      spdlog::critical("reactor: waiting for a cancelled op failed: {}", std::strerror(-rc));
      std::terminate();
    }
    unsigned head, seen = 0;
    io_uring_for_each_cqe(r, head, cqe) {
      take_completion(cqe->user_data, cqe->res, cqe->flags);
      ++seen;
    }
    io_uring_cq_advance(r, seen);
  }
  forget(o);
}

void reactor::forget(op& o) noexcept {
  if (!o.pending_resume_) return;
  for (auto& p : completed_) {
    if (p == &o) p = nullptr;
  }
  o.pending_resume_ = false;
}

// --- completion --------------------------------------------------------------

void reactor::take_completion(std::uint64_t user_data, std::int32_t res,
                              std::uint32_t flags) noexcept {
  if (user_data == ignored_tag) return;
  if (user_data == wakeup_tag) {
    arm_wakeup();
    return;
  }
  auto* o = reinterpret_cast<op*>(user_data);
  o->res_ = res;
  o->cqe_flags_ = flags;
  o->in_flight_ = false;
  o->pending_resume_ = true;
  if (o->token_) o->token_->unlink(o);
  --in_flight_;
  completed_.push_back(o);
}

void reactor::arm_wakeup() noexcept {
  io_uring_sqe* sqe = next_sqe(&ring_->uring, 1);
  io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
  io_uring_sqe_set_data64(sqe, wakeup_tag);
}

void reactor::reap(bool wait_for_one) {
  io_uring* r = &ring_->uring;
  int rc;
  if (wait_for_one) {
    rc = io_uring_submit_and_wait(r, 1);
  } else if (setup_flags_ & IORING_SETUP_DEFER_TASKRUN) {
    rc = io_uring_submit_and_get_events(r);  // deferred completions run only when asked
  } else {
    rc = io_uring_submit(r);
  }
  if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME) {
    throw std::system_error(-rc, std::system_category(), "io_uring_enter");
  }
  io_uring_cqe* cqe = nullptr;
  unsigned head, seen = 0;
  io_uring_for_each_cqe(r, head, cqe) {
    take_completion(cqe->user_data, cqe->res, cqe->flags);
    ++seen;
  }
  io_uring_cq_advance(r, seen);
}

void reactor::drain_posted() {
  std::function<void()> batch[64];
  for (;;) {
    std::size_t n = posted_->queue.try_dequeue_bulk(batch, 64);
    if (n == 0) return;
    for (std::size_t i = 0; i < n; ++i) {
      batch[i]();
      batch[i] = nullptr;
    }
  }
}

void reactor::turn(const std::function<bool()>& done) {
  // Resume coroutines whose ops completed, then those made ready before
  // this turn (one that reschedules itself waits for the next), then run
  // work posted from other threads.
  while (!completed_.empty()) {
    op* o = completed_.front();
    completed_.pop_front();
    if (!o) continue;  // its frame was destroyed after completion
    o->pending_resume_ = false;
    o->waiter_.resume();
  }
  for (std::size_t n = ready_.size(); n > 0 && !ready_.empty(); --n) {
    auto h = ready_.front();
    ready_.pop_front();
    h.resume();
  }
  drain_posted();

  bool wait = false;
  if (completed_.empty() && ready_.empty() && !done()) {
    // Announce the sleep before the last look at the queue: a poster that
    // enqueues after this sees `sleeping_` and writes the eventfd.
    sleeping_.store(true, std::memory_order_seq_cst);
    wait = posted_->queue.size_approx() == 0;
  }
  reap(wait);
  sleeping_.store(false, std::memory_order_relaxed);
}

void reactor::run_until(const std::function<bool()>& done) {
  assert(std::this_thread::get_id() == thread_);
  while (!done()) turn(done);
}

void reactor::run() {
  run_until([this] {
    if (!stop_requested_.load(std::memory_order_acquire)) return false;
    return live_tasks_ == 0 && ready_.empty() && completed_.empty() &&
           posted_->queue.size_approx() == 0;
  });
}

void reactor::spawn(task<void> t) {
  ++live_tasks_;
  detached d = run_detached(std::move(t));
  d.handle.promise().home = this;
  d.handle.promise().frame = d.handle;
  d.handle.promise().link_before(ring_->spawned);
  ready_.push_back(d.handle);
}

void reactor::post(std::function<void()> fn) {
  posting_.fetch_add(1, std::memory_order_seq_cst);
  posted_->queue.enqueue(std::move(fn));
  if (sleeping_.exchange(false, std::memory_order_seq_cst)) {
    std::uint64_t one = 1;
    // A full eventfd counter means a wakeup is already pending.
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
  posting_.fetch_sub(1, std::memory_order_release);
}

void reactor::stop() {
  if (stop_requested_.exchange(true)) return;
  post([this] { shutdown_.cancel(); });
}

// --- op ----------------------------------------------------------------------

op::~op() {
  if (in_flight_) owner_->cancel_and_wait(*this);
  else if (pending_resume_) owner_->forget(*this);
  if (token_) token_->unlink(this);
}

op_ref op::with_deadline(clock::time_point deadline) noexcept {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch());
  deadline_.tv_sec = ns.count() / 1'000'000'000;
  deadline_.tv_nsec = ns.count() % 1'000'000'000;
  has_deadline_ = kind_ != kind::timer;
  return op_ref(*this);
}

bool op::await_ready() noexcept {
  if (token_ && token_->cancelled()) {
    res_ = -ECANCELED;
    token_ = nullptr;
    return true;
  }
  return false;
}

void op::await_suspend(std::coroutine_handle<> waiter) noexcept {
  waiter_ = waiter;
  reactor* r = reactor::current();
  assert(r && "ops are awaited on a reactor thread");
  if (token_) token_->link(this);
  r->submit(*this);
}

io_result<int> op::await_resume() noexcept {
  int res = res_;
  if (kind_ == kind::timer && res == -ETIME) res = 0;  // the timer fired: success
  if (res == -ECANCELED && has_deadline_ && !cancel_requested_) res = -ETIMEDOUT;
  if (res < 0) return tl::unexpected(std::error_code(-res, std::system_category()));
  return res;
}

// --- cancellation ------------------------------------------------------------

void cancellation::link(op* o) noexcept {
  o->prev_ = nullptr;
  o->next_ = head_;
  if (head_) head_->prev_ = o;
  head_ = o;
}

void cancellation::unlink(op* o) noexcept {
  if (o->prev_) o->prev_->next_ = o->next_;
  else if (head_ == o) head_ = o->next_;
  if (o->next_) o->next_->prev_ = o->prev_;
  o->next_ = o->prev_ = nullptr;
  o->token_ = nullptr;
}

void cancellation::cancel() noexcept {
  cancelled_ = true;
  // Ask the kernel to cancel each op and detach it from this token, which
  // may be gone before the completions arrive.
  while (head_) {
    op* o = head_;
    unlink(o);
    o->cancel_requested_ = true;
    if (o->in_flight_) o->owner_->cancel(*o);
  }
}

}  // namespace ringcri::reactor
