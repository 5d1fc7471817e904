#include "stream/http_request_head.hpp"

#include <fmt/format.h>
#include <http_parser.h>

#include <algorithm>
#include <cctype>

namespace ringcri::stream {

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

// What http-parser's callbacks build up.
struct http_request_parser::state {
  http_parser parser;
  http_request req;
  std::string url;
  std::string field;
  std::string value;
  bool in_value = false;
  bool complete = false;
  std::size_t head_size = 0;

  void flush_header() {
    if (!field.empty()) req.headers.emplace(lowercase(field), std::string(trim(value)));
    field.clear();
    value.clear();
    in_value = false;
  }

  static state& of(http_parser* p) { return *static_cast<state*>(p->data); }

  static const http_parser_settings& settings() {
    static const http_parser_settings s = [] {
      http_parser_settings s{};
      s.on_url = [](http_parser* p, const char* at, std::size_t n) {
        of(p).url.append(at, n);
        return 0;
      };
      s.on_header_field = [](http_parser* p, const char* at, std::size_t n) {
        auto& st = of(p);
        if (st.in_value) st.flush_header();
        st.field.append(at, n);
        return 0;
      };
      s.on_header_value = [](http_parser* p, const char* at, std::size_t n) {
        auto& st = of(p);
        st.in_value = true;
        st.value.append(at, n);
        return 0;
      };
      s.on_headers_complete = [](http_parser* p) {
        of(p).flush_header();
        // 1: no body expected. The streaming endpoints take none; a body
        // would be the upgraded protocol's bytes.
        return 1;
      };
      s.on_message_complete = [](http_parser* p) {
        of(p).complete = true;
        http_parser_pause(p, 1);
        return 0;
      };
      return s;
    }();
    return s;
  }
};

http_request_parser::http_request_parser() : state_(std::make_unique<state>()) {
  http_parser_init(&state_->parser, HTTP_REQUEST);
  state_->parser.data = state_.get();
}

http_request_parser::~http_request_parser() = default;

result<bool> http_request_parser::feed(std::string_view chunk, std::string& rest) {
  auto& st = *state_;
  std::size_t used =
      http_parser_execute(&st.parser, &state::settings(), chunk.data(), chunk.size());
  auto err = HTTP_PARSER_ERRNO(&st.parser);
  if (err != HPE_OK && err != HPE_PAUSED)
    return fail(error_kind::invalid_argument,
                fmt::format("malformed HTTP request: {}", http_errno_description(err)));
  if (st.complete || st.parser.upgrade) {
    // An upgrade stops the parser at the end of the head; what follows
    // belongs to the new protocol.
    rest.assign(chunk.substr(used));
    return true;
  }
  st.head_size += used;
  if (st.head_size > max_head)
    return fail(error_kind::resource_exhausted, "HTTP request head over 64 KiB");
  return false;
}

http_request http_request_parser::take_request() {
  auto& st = *state_;
  st.req.method = http_method_str(static_cast<http_method>(st.parser.method));
  auto q = st.url.find('?');
  st.req.path = st.url.substr(0, q);
  if (q != std::string::npos) st.req.query = st.url.substr(q + 1);
  return std::move(st.req);
}

std::string http_request::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string{} : it->second;
}

std::vector<std::string> http_request::header_values(std::string_view name) const {
  std::vector<std::string> out;
  auto [lo, hi] = headers.equal_range(std::string(name));
  for (auto it = lo; it != hi; ++it) out.push_back(it->second);
  return out;
}

std::vector<std::string> http_request::header_list(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& v : header_values(name)) {
    std::string_view rest = v;
    for (;;) {
      auto comma = rest.find(',');
      auto item = trim(rest.substr(0, comma));
      if (!item.empty()) out.emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

bool http_request::header_has_token(std::string_view name, std::string_view token) const {
  auto want = lowercase(token);
  for (const auto& item : header_list(name))
    if (lowercase(item) == want) return true;
  return false;
}

std::vector<std::string> http_request::query_values(std::string_view name) const {
  std::vector<std::string> out;
  std::string_view rest = query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name)
      out.push_back(eq == std::string_view::npos ? std::string{}
                                                 : percent_decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace ringcri::stream
