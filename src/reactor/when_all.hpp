#pragma once
// when_all: run several tasks at once on the current reactor and resume the
// caller when the last one finishes. Results keep the order of the inputs.

#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <vector>

#include "reactor/task.hpp"

namespace ringcri::reactor {

namespace detail {

// Counts the children still running, plus one held by the parent while it
// starts them, so that a child finishing synchronously never resumes the
// parent from inside its own await_suspend.
struct when_all_latch {
  std::size_t remaining;
  std::coroutine_handle<> parent;

  bool count_down() noexcept { return --remaining == 0; }
};

struct child_promise;

struct child {
  using promise_type = child_promise;
  std::coroutine_handle<child_promise> handle;
};

struct child_promise {
  when_all_latch* latch = nullptr;

  child get_return_object() noexcept {
    return child{std::coroutine_handle<child_promise>::from_promise(*this)};
  }
  std::suspend_always initial_suspend() const noexcept { return {}; }
  auto final_suspend() const noexcept {
    struct awaiter {
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<child_promise> h) noexcept {
        auto* latch = h.promise().latch;
        return latch->count_down() ? latch->parent : std::noop_coroutine();
      }
      void await_resume() const noexcept {}
    };
    return awaiter{};
  }
  void return_void() noexcept {}
  void unhandled_exception() noexcept { std::terminate(); }  // children never throw: see run_child
};

// Each child awaits one task and parks its result (or exception) in `slot`.
template <class T>
using slot_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
struct slot {
  std::optional<slot_t<T>> value;
  std::exception_ptr exception;
  slot_t<T> take() {
    if (exception) std::rethrow_exception(exception);
    return std::move(*value);
  }
};

template <class T>
child run_child(task<T>& t, slot<T>& out) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await t;
      out.value.emplace();
    } else {
      out.value.emplace(co_await t);
    }
  } catch (...) {
    out.exception = std::current_exception();
  }
}

struct children_awaiter {
  when_all_latch& latch;
  std::vector<child>& children;

  bool await_ready() const noexcept { return children.empty(); }
  bool await_suspend(std::coroutine_handle<> parent) noexcept {
    latch.parent = parent;
    for (auto& c : children) c.handle.resume();
    return !latch.count_down();  // all finished already: do not suspend
  }
  void await_resume() const noexcept {}
};

struct children_owner {
  std::vector<child> children;
  ~children_owner() {
    for (auto& c : children) c.handle.destroy();
  }
};

}  // namespace detail

// Runs every task of `tasks` at once; the results come back in order.
template <class T>
task<std::vector<detail::slot_t<T>>> when_all(std::vector<task<T>> tasks) {
  std::vector<detail::slot<T>> slots(tasks.size());
  detail::when_all_latch latch{tasks.size() + 1, {}};
  detail::children_owner owner;
  owner.children.reserve(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    owner.children.push_back(detail::run_child(tasks[i], slots[i]));
    owner.children.back().handle.promise().latch = &latch;
  }
  co_await detail::children_awaiter{latch, owner.children};
  std::vector<detail::slot_t<T>> out;
  out.reserve(slots.size());
  for (auto& s : slots) out.push_back(s.take());
  co_return out;
}

// Runs tasks of different types at once; returns a tuple of their results
// (std::monostate where a task returns void).
template <class... Ts>
task<std::tuple<detail::slot_t<Ts>...>> when_all(task<Ts>... tasks) {
  std::tuple<detail::slot<Ts>...> slots;
  detail::when_all_latch latch{sizeof...(Ts) + 1, {}};
  detail::children_owner owner;
  owner.children.reserve(sizeof...(Ts));
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    auto refs = std::forward_as_tuple(tasks...);
    (owner.children.push_back(detail::run_child(std::get<I>(refs), std::get<I>(slots))), ...);
  }(std::index_sequence_for<Ts...>{});
  for (auto& c : owner.children) c.handle.promise().latch = &latch;
  co_await detail::children_awaiter{latch, owner.children};
  co_return std::apply([](auto&... s) { return std::tuple<detail::slot_t<Ts>...>(s.take()...); },
                       slots);
}

}  // namespace ringcri::reactor
