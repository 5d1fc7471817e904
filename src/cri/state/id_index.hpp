#pragma once
// Resolves an id prefix to the one full id it names, like containerd's
// truncindex: `crictl stop 3f2a` works when only one id starts with 3f2a.
// Not thread-safe on its own; runtime_state guards it with its lock.

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "base/error.hpp"

namespace ringcri::cri::state {

class id_index {
 public:
  // `noun` names what the ids are ("pod sandbox", "container") in messages.
  explicit id_index(std::string noun) : noun_(std::move(noun)) {}

  // Adds a full id. INVALID_ARGUMENT if empty, ALREADY_EXISTS if present.
  result<void> add(std::string id);

  // Removes an id; false if it was not there.
  bool remove(std::string_view id);

  bool contains(std::string_view id) const;

  // The single id starting with `prefix`. An id equal to the prefix wins
  // even if longer ids start with it. Errors: INVALID_ARGUMENT for an empty
  // prefix, NOT_FOUND when nothing matches, INVALID_ARGUMENT when several
  // ids match (the message says how many).
  result<std::string> resolve(std::string_view prefix) const;

  std::size_t size() const { return ids_.size(); }

 private:
  std::string noun_;
  std::set<std::string, std::less<>> ids_;  // sorted: a prefix's matches are contiguous
};

}  // namespace ringcri::cri::state
