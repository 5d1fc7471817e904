#include "stream/http_request.hpp"

#include <http_parser.h>

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "stream/output_pump.hpp"
#include "reactor/ops.hpp"

namespace ringcri::stream {

namespace io = reactor;

namespace {

constexpr std::size_t max_head = 64u << 10;

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
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
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// What http-parser's callbacks build up.
struct parse_state {
  http_request req;
  std::string url;
  std::string field;
  std::string value;
  bool in_value = false;
  bool complete = false;

  void flush_header() {
    if (!field.empty()) req.headers.emplace(lowercase(field), std::string(trim(value)));
    field.clear();
    value.clear();
    in_value = false;
  }
};

parse_state& state_of(http_parser* p) { return *static_cast<parse_state*>(p->data); }

const http_parser_settings& settings() {
  static const http_parser_settings s = [] {
    http_parser_settings s{};
    s.on_url = [](http_parser* p, const char* at, std::size_t n) {
      state_of(p).url.append(at, n);
      return 0;
    };
    s.on_header_field = [](http_parser* p, const char* at, std::size_t n) {
      auto& st = state_of(p);
      if (st.in_value) st.flush_header();
      st.field.append(at, n);
      return 0;
    };
    s.on_header_value = [](http_parser* p, const char* at, std::size_t n) {
      auto& st = state_of(p);
      st.in_value = true;
      st.value.append(at, n);
      return 0;
    };
    s.on_headers_complete = [](http_parser* p) {
      state_of(p).flush_header();
      // 1: no body expected. The streaming endpoints take none; a body
      // would be the upgraded protocol's bytes.
      return 1;
    };
    s.on_message_complete = [](http_parser* p) {
      state_of(p).complete = true;
      http_parser_pause(p, 1);
      return 0;
    };
    return s;
  }();
  return s;
}

}  // namespace

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
      out.push_back(eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

reactor::task<result<http_request>> read_request(int fd, std::string& rest,
                                                 std::chrono::milliseconds timeout) {
  parse_state st;
  http_parser parser;
  http_parser_init(&parser, HTTP_REQUEST);
  parser.data = &st;
  auto deadline = io::clock::now() + timeout;

  std::string head;
  std::array<std::byte, 4096> buf;
  for (;;) {
    auto n = co_await io::recv(fd, buf).with_deadline(deadline);
    if (!n) {
      if (n.error().value() == ETIMEDOUT || n.error().value() == ECANCELED)
        co_return fail(error_kind::deadline_exceeded, "no complete HTTP request in time");
      co_return fail_errno(n.error().value(), "read the HTTP request");
    }
    if (*n == 0) co_return fail(error_kind::invalid_argument, "connection closed before a complete HTTP request");
    const char* data = reinterpret_cast<const char*>(buf.data());
    std::size_t used = http_parser_execute(&parser, &settings(), data, *n);
    auto err = HTTP_PARSER_ERRNO(&parser);
    if (err != HPE_OK && err != HPE_PAUSED)
      co_return fail(error_kind::invalid_argument,
                     fmt::format("malformed HTTP request: {}", http_errno_description(err)));
    if (st.complete || parser.upgrade) {
      // An upgrade stops the parser at the end of the head; what follows
      // belongs to the new protocol.
      rest.assign(data + used, *n - used);
      break;
    }
    head.append(data, used);
    if (head.size() > max_head) co_return fail(error_kind::resource_exhausted, "HTTP request head over 64 KiB");
  }

  st.req.method = http_method_str(static_cast<http_method>(parser.method));
  auto q = st.url.find('?');
  st.req.path = st.url.substr(0, q);
  if (q != std::string::npos) st.req.query = st.url.substr(q + 1);
  co_return std::move(st.req);
}

reactor::task<result<void>> write_error_response(int fd, int status, std::string_view reason,
                                                 std::string_view body) {
  auto response = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      status, reason, body.size() + 1, body);
  response += '\n';
  co_return co_await write_all(fd, response);
}

}  // namespace ringcri::stream
