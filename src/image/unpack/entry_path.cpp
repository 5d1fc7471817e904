#include "image/unpack/entry_path.hpp"

#include <fmt/format.h>

#include <vector>

namespace ringcri::image {

result<std::string> clean_entry_path(std::string_view name) {
  auto refuse = [&](std::string_view why) {
    return fail(error_kind::invalid_argument, fmt::format("entry \"{}\": {}", name, why));
  };
  if (name.empty()) return refuse("empty name");
  if (name.front() == '/') return refuse("absolute path");
  if (name.find('\0') != std::string_view::npos) return refuse("NUL byte in name");
  std::vector<std::string_view> parts;
  std::string_view rest = name;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return refuse("\"..\" climbs out of the layer root");
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  out.reserve(name.size());
  for (auto part : parts) {
    if (!out.empty()) out.push_back('/');
    out.append(part);
  }
  return out;
}

std::string_view parent_of(std::string_view clean) {
  auto slash = clean.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : clean.substr(0, slash);
}

std::string_view name_of(std::string_view clean) {
  auto slash = clean.rfind('/');
  return slash == std::string_view::npos ? clean : clean.substr(slash + 1);
}

}  // namespace ringcri::image
