#include "image/registry/auth_challenge.hpp"

#include <cctype>
#include <cstring>

namespace ringcri::image {

namespace {

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c);
}

class scanner {
 public:
  explicit scanner(std::string_view s) : s_(s) {}

  bool done() const { return pos_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[pos_]; }
  void skip_ws() {
    while (!done() && (peek() == ' ' || peek() == '\t')) ++pos_;
  }
  void skip_ws_and_commas() {
    while (!done() && (peek() == ' ' || peek() == '\t' || peek() == ',')) ++pos_;
  }
  std::string token() {
    std::size_t start = pos_;
    while (!done() && is_tchar(peek())) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  // A quoted-string, at its opening quote.
  std::string quoted() {
    std::string out;
    ++pos_;
    while (!done() && peek() != '"') {
      if (peek() == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out.push_back(s_[pos_++]);
    }
    if (!done()) ++pos_;  // the closing quote
    return out;
  }
  // Skips a token68 (base64-like credentials) and its '=' padding.
  void skip_token68() {
    while (!done() &&
           (std::isalnum(static_cast<unsigned char>(peek())) || std::strchr("-._~+/", peek())))
      ++pos_;
    while (!done() && peek() == '=') ++pos_;
  }
  std::size_t pos() const { return pos_; }
  void rewind(std::size_t p) { pos_ = p; }
  void advance() { ++pos_; }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<auth_challenge> parse_www_authenticate(std::string_view header) {
  std::vector<auth_challenge> out;
  scanner in(header);
  for (;;) {
    in.skip_ws_and_commas();
    if (in.done()) break;
    std::string scheme = in.token();
    if (scheme.empty()) {
      in.advance();  // junk: skip a character and look again
      continue;
    }
    auth_challenge c;
    c.scheme = lower(std::move(scheme));
    in.skip_ws();
    // auth-params: name = value, separated by commas. A token not followed
    // by '=' starts the next challenge.
    for (;;) {
      in.skip_ws();
      std::size_t start = in.pos();
      std::string name = in.token();
      in.skip_ws();
      if (name.empty() || in.peek() != '=') {
        in.rewind(start);  // the next challenge's scheme, or the end
        break;
      }
      in.advance();
      // "abc==" is a token68 credential, not a parameter named abc.
      if (in.peek() == '=' || in.peek() == ',' || in.done()) {
        in.rewind(start);
        in.skip_token68();
        break;
      }
      in.skip_ws();
      std::string value = in.peek() == '"' ? in.quoted() : in.token();
      c.params[lower(std::move(name))] = std::move(value);
      in.skip_ws();
      if (in.peek() != ',') break;
      in.advance();
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace ringcri::image
