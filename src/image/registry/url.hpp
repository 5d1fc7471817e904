#pragma once
// The few URL manipulations the registry client needs. Internal.

#include <string>
#include <string_view>

namespace ringcri::image::registry_detail {

// "host:port" of "scheme://user@host:port/path?q" ("" when there is none).
std::string_view url_host(std::string_view url);
// "scheme://host:port" of a URL.
std::string_view url_origin(std::string_view url);
// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string percent_encode(std::string_view s);
// Appends "key=value" (value encoded) with '?' or '&' as the URL needs.
std::string with_query(std::string url, std::string_view key, std::string_view value);

}  // namespace ringcri::image::registry_detail
