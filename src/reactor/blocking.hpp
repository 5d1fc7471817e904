#pragma once
// run_blocking: for work that can only block (syscalls io_uring lacks, such
// as directory walks, mount, setxattr; CPU-heavy loops). The work runs on a
// small shared pool of plain threads and the awaiting coroutine resumes on
// the reactor it came from.
//
//   auto usage = co_await reactor::run_blocking([&] { return walk(dir); });

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "reactor/reactor.hpp"

namespace ringcri::reactor {

// Queues `job` on the blocking pool (started on first use, one thread per
// core, at least two).
void submit_blocking(std::function<void()> job);

template <class F>
auto run_blocking(F fn) {
  using T = std::invoke_result_t<F&>;
  struct awaiter {
    F fn;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
    std::exception_ptr failure;

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      reactor* home = reactor::current();
      submit_blocking([this, h, home] {
        try {
          if constexpr (std::is_void_v<T>) {
            fn();
            value.emplace(true);
          } else {
            value.emplace(fn());
          }
        } catch (...) {
          failure = std::current_exception();
        }
        if (home) home->post([h] { h.resume(); });
        else h.resume();
      });
    }
    T await_resume() {
      if (failure) std::rethrow_exception(failure);
      if constexpr (!std::is_void_v<T>) return std::move(*value);
    }
  };
  return awaiter{std::move(fn), {}, {}};
}

}  // namespace ringcri::reactor
