#pragma once
// Catch2 helpers for coroutine tests.
//
// Catch's REQUIRE(expr) names `expr` twice in its expansion; with a
// co_await inside, g++ 12 may run the await twice. CO_REQUIRE awaits once.
//
// Another g++ 12 coroutine bug, for tests and code alike: a braced
// aggregate temporary inside a co_await expression (co_await f(creds{}))
// is freed twice. Name the value first: `creds none; co_await f(none);`.
// And a third: `if (!co_await f())` can resume a finished frame (a trap
// in the .cold path); bind the result first: `bool ok = co_await f();`.

#include <catch2/catch.hpp>

#include <string>

#include "reactor/op.hpp"

#define CO_REQUIRE(expr)             \
  do {                               \
    auto co_require_value_ = (expr); \
    REQUIRE(co_require_value_);      \
  } while (0)

namespace Catch {
template <class T>
struct StringMaker<ringcri::reactor::io_result<T>> {
  static std::string convert(const ringcri::reactor::io_result<T>& r) {
    if (r) return "ok(" + StringMaker<T>::convert(*r) + ")";
    return "error(" + r.error().message() + ")";
  }
};
}  // namespace Catch
