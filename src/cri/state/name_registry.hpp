#pragma once
// Unique names for live objects, like containerd's registrar: each name is
// held by one id, and each id holds at most one name. A name is freed only
// when its holder is removed, so a clash tells who holds it.
// Not thread-safe on its own; runtime_state guards it with its lock.

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "base/error.hpp"

namespace ringcri::cri::state {

class name_registry {
 public:
  // `noun` names what holds the names ("pod sandbox", "container") in messages.
  explicit name_registry(std::string noun) : noun_(std::move(noun)) {}

  // Gives `name` to `holder`. Reserving the same pair again succeeds.
  // ALREADY_EXISTS (`pod sandbox name "x" is reserved for "<id>"`) if
  // another id holds the name, or if `holder` already holds another name;
  // INVALID_ARGUMENT if either is empty.
  result<void> reserve(const std::string& name, const std::string& holder);

  // Frees `name`; false if nobody held it.
  bool release(const std::string& name);

  // Who holds `name`, if anyone.
  std::optional<std::string> holder_of(const std::string& name) const;

  std::size_t size() const { return holder_by_name_.size(); }

 private:
  std::string noun_;
  std::unordered_map<std::string, std::string> holder_by_name_;
  std::unordered_map<std::string, std::string> name_by_holder_;
};

}  // namespace ringcri::cri::state
