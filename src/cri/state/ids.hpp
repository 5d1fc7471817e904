#pragma once
// Pod sandbox and container ids: 64 lowercase hex digits (32 random bytes),
// as containerd makes them. Two distinct types so one can never be passed
// where the other is meant.

#include <compare>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace ringcri::cri::state {

struct sandbox_id {
  std::string value;
  friend auto operator<=>(const sandbox_id&, const sandbox_id&) = default;
};

struct container_id {
  std::string value;
  friend auto operator<=>(const container_id&, const container_id&) = default;
};

inline constexpr std::size_t full_id_length = 64;

// A fresh id: 32 random bytes (sys::random_hex) as 64 lowercase hex
// digits. The kernel's random bytes cannot fail on a supported kernel; if
// they ever do, the process aborts rather than hand out a guessable id.
std::string new_id();

// Whether `s` has the shape new_id() gives: exactly 64 of [0-9a-f].
bool is_full_id(std::string_view s);

}  // namespace ringcri::cri::state

template <>
struct std::hash<ringcri::cri::state::sandbox_id> {
  std::size_t operator()(const ringcri::cri::state::sandbox_id& id) const noexcept {
    return std::hash<std::string>{}(id.value);
  }
};

template <>
struct std::hash<ringcri::cri::state::container_id> {
  std::size_t operator()(const ringcri::cri::state::container_id& id) const noexcept {
    return std::hash<std::string>{}(id.value);
  }
};
