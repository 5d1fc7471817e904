// Turning a failed plugin's output into an error (see plugin_error.hpp).

#include "net/cni/plugin_error.hpp"

#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>

namespace ringcri::net::cni {

using nlohmann::json;

namespace {

// Long output is cut: the message is for a log line and a gRPC status.
constexpr size_t max_text = 4096;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string cut(std::string_view s) {
  s = trim(s);
  if (s.size() <= max_text) return std::string(s);
  return fmt::format("{}...", s.substr(0, max_text));
}

error_kind kind_of_code(long code) {
  switch (code) {
    case 1:
    case 2:
    case 4:
    case 6:
    case 7:
      return error_kind::invalid_argument;
    case 3:
      return error_kind::not_found;
    case 11:
      return error_kind::unavailable;
    default:
      return error_kind::internal;
  }
}

}  // namespace

error plugin_failure(std::string_view type, std::string_view how, std::string_view out,
                     std::string_view err) {
  json doc = json::parse(out, nullptr, false);
  if (!doc.is_discarded() && doc.is_object()) {
    auto msg = doc.find("msg");
    if (msg != doc.end() && msg->is_string()) {
      std::string text = cut(msg->get<std::string>());
      auto details = doc.find("details");
      if (details != doc.end() && details->is_string() &&
          !trim(details->get<std::string>()).empty())
        text = fmt::format("{}: {}", text, cut(details->get<std::string>()));
      long code = 0;
      auto c = doc.find("code");
      if (c != doc.end() && c->is_number_integer()) code = c->get<long>();
      return error(kind_of_code(code), fmt::format("plugin {}: {}", type, text));
    }
  }
  std::string text = cut(err);
  if (text.empty()) text = cut(out);
  if (text.empty()) return error(error_kind::internal, fmt::format("plugin {}: {}", type, how));
  return error(error_kind::internal, fmt::format("plugin {}: {} ({})", type, text, how));
}

}  // namespace ringcri::net::cni
