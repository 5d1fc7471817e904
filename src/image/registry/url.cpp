#include "image/registry/url.hpp"

namespace ringcri::image::registry_detail {

std::string_view url_origin(std::string_view url) {
  auto scheme_end = url.find("://");
  std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  auto end = url.find_first_of("/?#", start);
  return url.substr(0, end == std::string_view::npos ? url.size() : end);
}

std::string_view url_host(std::string_view url) {
  auto scheme_end = url.find("://");
  std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  auto authority = url_origin(url).substr(start);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  return authority;
}

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string with_query(std::string url, std::string_view key, std::string_view value) {
  url.push_back(url.find('?') == std::string::npos ? '?' : '&');
  url.append(percent_encode(key));
  url.push_back('=');
  url.append(percent_encode(value));
  return url;
}

}  // namespace ringcri::image::registry_detail
