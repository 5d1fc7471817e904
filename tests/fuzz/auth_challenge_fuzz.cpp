// WWW-Authenticate challenges (image/registry/auth_challenge): schemes and
// parameter names come out in lower case, and the challenges written back
// as a header (every value quoted) parse to the same challenges.

#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "image/registry/auth_challenge.hpp"

using namespace ringcri;
using namespace ringcri::image;

namespace {

bool is_lower(const std::string& s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return false;
  return true;
}

std::string quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto challenges = parse_www_authenticate(fuzz::as_text(data, size));
  std::string header;
  for (const auto& c : challenges) {
    FUZZ_CHECK(!c.scheme.empty());
    FUZZ_CHECK(is_lower(c.scheme));
    if (!header.empty()) header += ", ";
    header += c.scheme;
    bool first = true;
    for (const auto& [name, value] : c.params) {
      FUZZ_CHECK(!name.empty());
      FUZZ_CHECK(is_lower(name));
      FUZZ_CHECK(c.param(name) == value);
      header += first ? " " : ", ";
      header += name + "=" + quoted(value);
      first = false;
    }
  }
  auto again = parse_www_authenticate(header);
  FUZZ_CHECK(again.size() == challenges.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    FUZZ_CHECK(again[i].scheme == challenges[i].scheme);
    FUZZ_CHECK(again[i].params == challenges[i].params);
  }
  return 0;
}
