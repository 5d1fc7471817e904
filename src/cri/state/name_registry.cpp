#include "cri/state/name_registry.hpp"

#include <fmt/format.h>

namespace ringcri::cri::state {

result<void> name_registry::reserve(const std::string& name, const std::string& holder) {
  if (name.empty())
    return fail(error_kind::invalid_argument, fmt::format("{} name to reserve is empty", noun_));
  if (holder.empty())
    return fail(error_kind::invalid_argument,
                fmt::format("{} name \"{}\" cannot be reserved for an empty id", noun_, name));
  if (auto it = holder_by_name_.find(name); it != holder_by_name_.end()) {
    if (it->second == holder) return {};
    return fail(error_kind::already_exists,
                fmt::format("{} name \"{}\" is reserved for \"{}\"", noun_, name, it->second));
  }
  if (auto it = name_by_holder_.find(holder); it != name_by_holder_.end())
    return fail(error_kind::already_exists,
                fmt::format("{} \"{}\" already holds name \"{}\"", noun_, holder, it->second));
  holder_by_name_.emplace(name, holder);
  name_by_holder_.emplace(holder, name);
  return {};
}

bool name_registry::release(const std::string& name) {
  auto it = holder_by_name_.find(name);
  if (it == holder_by_name_.end()) return false;
  name_by_holder_.erase(it->second);
  holder_by_name_.erase(it);
  return true;
}

std::optional<std::string> name_registry::holder_of(const std::string& name) const {
  auto it = holder_by_name_.find(name);
  if (it == holder_by_name_.end()) return std::nullopt;
  return it->second;
}

}  // namespace ringcri::cri::state
