#pragma once
// Reading a plugin's config as the Go plugins do (encoding/json): an
// exact key wins, else one that matches without regard to case.

#include <strings.h>

#include <nlohmann/json.hpp>

namespace ringcri::net::native {

inline const nlohmann::json* member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  if (auto it = object.find(key); it != object.end()) return &*it;
  for (auto it = object.begin(); it != object.end(); ++it)
    if (::strcasecmp(it.key().c_str(), key) == 0) return &*it;
  return nullptr;
}

}  // namespace ringcri::net::native
