#pragma once
// Where one stage of the layer pipeline hands its output to the next: a
// non-owning reference to any callable `result<void>(std::span<const
// std::byte>)`. No allocation (std::function may allocate) and no template
// spreading each stage's type into the next. The callable must outlive the
// call it is passed to, which a lambda written at the call site does.

#include <cstddef>
#include <memory>
#include <span>
#include <type_traits>

#include "base/error.hpp"

namespace ringcri::image {

class byte_sink {
 public:
  template <class Fn>
  requires(!std::is_same_v<std::remove_cvref_t<Fn>, byte_sink> &&
           std::is_invocable_r_v<result<void>, Fn&, std::span<const std::byte>>) byte_sink(Fn&& fn)
  noexcept  // NOLINT(google-explicit-constructor): a view, like std::span
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(fn)))),
        call_([](void* object, std::span<const std::byte> bytes) -> result<void> {
          return (*static_cast<std::remove_reference_t<Fn>*>(object))(bytes);
        }) {}

  result<void> operator()(std::span<const std::byte> bytes) const { return call_(object_, bytes); }

 private:
  void* object_;
  result<void> (*call_)(void*, std::span<const std::byte>);
};

}  // namespace ringcri::image
