#pragma once
// task<T>: a lazy coroutine. It starts when awaited and hands control back
// to its awaiter by symmetric transfer, so chains of awaits use no stack.
// The only allocation is the coroutine frame itself.

#include <cassert>
#include <coroutine>
#include <exception>
#include <utility>
#include <variant>

namespace ringcri::reactor {

template <class T = void>
class task;

namespace detail {

struct final_awaiter {
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
    auto next = h.promise().continuation;
    return next ? next : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct promise_base {
  std::coroutine_handle<> continuation;
  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }
};

template <class T>
struct task_promise : promise_base {
  std::variant<std::monostate, T, std::exception_ptr> value;

  task<T> get_return_object() noexcept;
  void unhandled_exception() noexcept { value.template emplace<2>(std::current_exception()); }
  template <class U>
  void return_value(U&& v) { value.template emplace<1>(std::forward<U>(v)); }

  T take() {
    if (value.index() == 2) std::rethrow_exception(std::get<2>(value));
    assert(value.index() == 1);
    return std::move(std::get<1>(value));
  }
};

template <>
struct task_promise<void> : promise_base {
  std::exception_ptr exception;

  task<void> get_return_object() noexcept;
  void unhandled_exception() noexcept { exception = std::current_exception(); }
  void return_void() noexcept {}
  void take() {
    if (exception) std::rethrow_exception(exception);
  }
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;

  task() noexcept = default;
  explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { reset(); }

  bool valid() const noexcept { return bool(handle_); }
  bool done() const noexcept { return handle_ && handle_.done(); }

  auto operator co_await() && noexcept {
    struct awaiter {
      std::coroutine_handle<promise_type> h;
      bool await_ready() const noexcept { return !h || h.done(); }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
        h.promise().continuation = caller;
        return h;
      }
      T await_resume() { return h.promise().take(); }
    };
    return awaiter{handle_};
  }
  auto operator co_await() & noexcept { return std::move(*this).operator co_await(); }

  // For the reactor's drivers: start or read the result without awaiting.
  std::coroutine_handle<promise_type> handle() const noexcept { return handle_; }
  T take_result() { return handle_.promise().take(); }

 private:
  void reset() noexcept {
    // Destroying a suspended task destroys its frame; any I/O op the frame
    // was waiting on is cancelled by that op's destructor.
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  std::coroutine_handle<promise_type> handle_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace ringcri::reactor
