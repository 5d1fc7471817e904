#include "stream/spdy/frame.hpp"

#include <algorithm>

namespace ringcri::stream::spdy {

namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

const std::string* find_header(const header_block& block, std::string_view name) {
  for (const auto& [key, value] : block) {
    if (std::ranges::equal(key, name, {}, ascii_lower, ascii_lower)) return &value;
  }
  return nullptr;
}

}  // namespace ringcri::stream::spdy
