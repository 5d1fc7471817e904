#pragma once
// op: one io_uring operation, awaited by a coroutine. An op holds its
// prepared SQE by value (64 bytes, no allocation); the reactor copies it
// into the ring when the coroutine suspends and resumes the coroutine with
// the completion's result.
//
// Lifetime: an op lives in its coroutine's frame. If the frame is destroyed
// while the op is in flight (its owner went away), the destructor cancels
// the op and waits for the kernel to let go of it, so no completion ever
// lands in freed memory.

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <system_error>

#include <linux/time_types.h>
#include <liburing/io_uring.h>  // the SQE layout only; liburing.h stays in reactor.cpp
#include <tl/expected.hpp>

namespace ringcri::reactor {

using clock = std::chrono::steady_clock;

template <class T>
using io_result = tl::expected<T, std::error_code>;

class reactor;
class cancellation;
class op;

// What op::with_* return: a reference to the op, awaited in place. (A plain
// op& would do in the language, but g++ 12 copies glvalue co_await operands.)
class op_ref {
 public:
  explicit op_ref(op& o) noexcept : op_(&o) {}
  op_ref with_deadline(clock::time_point deadline) noexcept;
  template <class Rep, class Period>
  op_ref with_timeout(std::chrono::duration<Rep, Period> d) noexcept;
  op_ref with_cancel(cancellation& c) noexcept;

  bool await_ready() noexcept;
  void await_suspend(std::coroutine_handle<> waiter) noexcept;
  io_result<int> await_resume() noexcept;

 private:
  op* op_;
};

class op {
 public:
  enum class kind : std::uint8_t { plain, timer };

  explicit op(const io_uring_sqe& sqe) noexcept : sqe_(sqe), kind_(kind::plain) {}
  // A timer op (IORING_OP_TIMEOUT) that expires at `expiry`.
  op(const io_uring_sqe& sqe, clock::time_point expiry) noexcept
      : sqe_(sqe), kind_(kind::timer) {
    with_deadline(expiry);
  }
  op(const op&) = delete;
  op& operator=(const op&) = delete;
  ~op();

  // Fail with ETIMEDOUT if the op has not completed by `deadline`
  // (a linked timeout: the kernel cancels the op).
  op_ref with_deadline(clock::time_point deadline) noexcept;
  template <class Rep, class Period>
  op_ref with_timeout(std::chrono::duration<Rep, Period> d) noexcept;
  // Fail with ECANCELED when `c` is cancelled.
  op_ref with_cancel(cancellation& c) noexcept;

  bool await_ready() noexcept;
  void await_suspend(std::coroutine_handle<> waiter) noexcept;
  // The completion's result: >= 0 on success, or the errno it failed with.
  io_result<int> await_resume() noexcept;

 private:
  friend class reactor;
  friend class cancellation;

  io_uring_sqe sqe_;
  __kernel_timespec deadline_{};  // absolute CLOCK_MONOTONIC: timer expiry or op deadline
  kind kind_;
  bool has_deadline_ = false;
  bool in_flight_ = false;
  bool pending_resume_ = false;  // completed, not yet resumed
  bool cancel_requested_ = false;
  std::int32_t res_ = 0;
  std::uint32_t cqe_flags_ = 0;
  std::coroutine_handle<> waiter_;
  reactor* owner_ = nullptr;
  cancellation* token_ = nullptr;
  op* next_ = nullptr;  // in the token's list of ops in flight
  op* prev_ = nullptr;
};

// A cancellation source shared by several ops: cancel() cancels every op in
// flight that carries it, and makes later ones fail at once. It must be
// used from one reactor thread.
class cancellation {
  friend class reactor;
 public:
  cancellation() = default;
  cancellation(const cancellation&) = delete;
  cancellation& operator=(const cancellation&) = delete;
  ~cancellation() { cancel(); }

  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_; }

 private:
  friend class op;
  void link(op* o) noexcept;
  void unlink(op* o) noexcept;

  bool cancelled_ = false;
  op* head_ = nullptr;
};

inline op_ref op::with_cancel(cancellation& c) noexcept {
  token_ = &c;
  return op_ref(*this);
}
template <class Rep, class Period>
op_ref op::with_timeout(std::chrono::duration<Rep, Period> d) noexcept {
  return with_deadline(clock::now() + std::chrono::duration_cast<clock::duration>(d));
}

inline op_ref op_ref::with_deadline(clock::time_point deadline) noexcept {
  return op_->with_deadline(deadline);
}
template <class Rep, class Period>
op_ref op_ref::with_timeout(std::chrono::duration<Rep, Period> d) noexcept {
  return op_->with_timeout(d);
}
inline op_ref op_ref::with_cancel(cancellation& c) noexcept { return op_->with_cancel(c); }
inline bool op_ref::await_ready() noexcept { return op_->await_ready(); }
inline void op_ref::await_suspend(std::coroutine_handle<> w) noexcept { op_->await_suspend(w); }
inline io_result<int> op_ref::await_resume() noexcept { return op_->await_resume(); }

}  // namespace ringcri::reactor
