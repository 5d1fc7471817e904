#include "cri/state/id_index.hpp"

#include <fmt/format.h>

namespace ringcri::cri::state {

result<void> id_index::add(std::string id) {
  if (id.empty()) return fail(error_kind::invalid_argument, fmt::format("{} id is empty", noun_));
  auto [it, inserted] = ids_.insert(std::move(id));
  if (!inserted)
    return fail(error_kind::already_exists, fmt::format("{} \"{}\" already exists", noun_, *it));
  return {};
}

bool id_index::remove(std::string_view id) {
  auto it = ids_.find(id);
  if (it == ids_.end()) return false;
  ids_.erase(it);
  return true;
}

bool id_index::contains(std::string_view id) const { return ids_.find(id) != ids_.end(); }

result<std::string> id_index::resolve(std::string_view prefix) const {
  if (prefix.empty())
    return fail(error_kind::invalid_argument, fmt::format("{} id is empty", noun_));
  auto first = ids_.lower_bound(prefix);
  if (first == ids_.end() || !first->starts_with(prefix))
    return fail(error_kind::not_found, fmt::format("{} \"{}\" not found", noun_, prefix));
  if (first->size() == prefix.size()) return *first;  // exact match
  auto next = std::next(first);
  if (next == ids_.end() || !next->starts_with(prefix)) return *first;
  std::size_t matches = 2;
  for (++next; next != ids_.end() && next->starts_with(prefix); ++next) ++matches;
  return fail(
      error_kind::invalid_argument,
      fmt::format("{} id prefix \"{}\" is ambiguous: it matches {} ids", noun_, prefix, matches));
}

}  // namespace ringcri::cri::state
