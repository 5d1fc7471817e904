#include "image/digest.hpp"

#include <fmt/format.h>

#include <utility>

namespace ringcri::image {

namespace {

constexpr std::size_t sha256_hex_size = 64;

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// OCI image-spec descriptor.md: algorithm := component (separator
// component)*, component := [a-z0-9]+, separator := [+._-].
bool is_algorithm(std::string_view s) {
  if (s.empty()) return false;
  bool after_separator = true;
  for (char c : s) {
    bool component = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    bool separator = c == '+' || c == '.' || c == '_' || c == '-';
    if (!component && !separator) return false;
    if (separator && after_separator) return false;
    after_separator = separator;
  }
  return !after_separator;
}

}  // namespace

result<digest> digest::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return fail(error_kind::invalid_argument,
                fmt::format("invalid digest \"{}\": want algorithm:hex", text));
  std::string_view algorithm = text.substr(0, colon);
  std::string_view encoded = text.substr(colon + 1);
  if (!is_algorithm(algorithm))
    return fail(error_kind::invalid_argument,
                fmt::format("invalid digest \"{}\": bad algorithm \"{}\"", text, algorithm));
  if (algorithm != "sha256")
    return fail(error_kind::invalid_argument,
                fmt::format("unsupported digest algorithm \"{}\" in \"{}\" (only sha256)",
                            algorithm, text));
  if (encoded.size() != sha256_hex_size)
    return fail(error_kind::invalid_argument,
                fmt::format("invalid digest \"{}\": sha256 needs 64 hex digits, got {}", text,
                            encoded.size()));
  for (char c : encoded)
    if (!is_lower_hex(c))
      return fail(error_kind::invalid_argument,
                  fmt::format("invalid digest \"{}\": not lowercase hex", text));
  return digest(std::string(text));
}

digest digest::of(sys::sha256& hasher) { return digest("sha256:" + hasher.finish()); }

digest sha256_of(std::span<const std::byte> bytes) {
  sys::sha256 h;
  h.update(bytes);
  return digest::of(h);
}

}  // namespace ringcri::image
