#include "image/source/reference.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstddef>

// The grammar is distribution/reference's (the one Docker and containerd
// parse with), written out by hand instead of as regular expressions:
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ domain "/" ] path-component { "/" path-component }
//   domain     := host [ ":" port ],  host := domain-name | "[" ipv6 "]"
//   path-component := [a-z0-9]+ { ("." | "_" | "__" | "-"+) [a-z0-9]+ }
//   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest     := ("sha256:" 64 hex | "sha512:" 128 hex), hex lowercase
//
// and normalised as ParseNormalizedNamed does.

namespace ringcri::image {

namespace {

constexpr std::string_view default_domain = "docker.io";
constexpr std::string_view legacy_default_domain = "index.docker.io";
constexpr std::string_view docker_hub_api_host = "registry-1.docker.io";
constexpr std::string_view official_repo_prefix = "library/";
constexpr std::size_t name_total_length_max = 255;
constexpr std::size_t tag_length_max = 128;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// [a-z0-9]+ { separator [a-z0-9]+ } with separator "." | "_" | "__" | "-"+.
bool is_path_component(std::string_view s) {
  std::size_t i = 0;
  auto alnum_run = [&] {
    std::size_t start = i;
    while (i < s.size() && is_lower_alnum(s[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

// [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool is_domain_component(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

// host [":" port]; host is a dotted domain name or a bracketed IPv6 address.
bool is_domain(std::string_view s) {
  std::string_view host = s;
  std::string_view rest;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    auto inside = s.substr(1, close - 1);
    if (!std::all_of(inside.begin(), inside.end(), [](char c) { return is_hex(c) || c == ':'; }))
      return false;
    rest = s.substr(close + 1);
  } else {
    auto colon = s.find(':');
    host = s.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : s.substr(colon);
    std::size_t start = 0;
    while (true) {
      auto dot = host.find('.', start);
      if (!is_domain_component(host.substr(start, dot - start))) return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  if (rest.empty()) return true;
  if (rest.front() != ':' || rest.size() == 1) return false;
  return std::all_of(rest.begin() + 1, rest.end(), is_digit);
}

bool is_tag(std::string_view s) {
  if (s.empty() || s.size() > tag_length_max || !is_word(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

bool is_anchored_identifier(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), is_lower_hex);
}

// Empty when `d` is a digest we can verify, else what is wrong with it.
std::string digest_problem(std::string_view d) {
  auto colon = d.find(':');
  if (colon == std::string_view::npos)
    return fmt::format("invalid digest \"{}\": want <algorithm>:<hex>", d);
  auto algorithm = d.substr(0, colon);
  auto hex = d.substr(colon + 1);
  std::size_t want = 0;
  if (algorithm == "sha256") {
    want = 64;
  } else if (algorithm == "sha512") {
    want = 128;
  } else {
    return fmt::format("unsupported digest algorithm \"{}\" (want sha256 or sha512)", algorithm);
  }
  if (hex.size() != want || !std::all_of(hex.begin(), hex.end(), is_lower_hex))
    return fmt::format("invalid digest \"{}\": {} wants {} lowercase hex digits", d, algorithm,
                       want);
  return {};
}

// "[::1]:5000" -> "::1", "localhost:5000" -> "localhost".
std::string_view host_without_port(std::string_view registry) {
  if (!registry.empty() && registry.front() == '[') {
    auto close = registry.find(']');
    return close == std::string_view::npos ? registry : registry.substr(1, close - 1);
  }
  return registry.substr(0, registry.find(':'));
}

}  // namespace

std::string reference::name() const { return registry + "/" + repository; }

std::string reference::string() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string reference::api_host() const {
  return registry == default_domain ? std::string(docker_hub_api_host) : registry;
}

bool reference::is_loopback() const {
  std::string host(host_without_port(registry));
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

result<reference> parse_reference(std::string_view text) {
  auto bad = [text](std::string_view what) {
    return fail(error_kind::invalid_argument,
                fmt::format("invalid image reference \"{}\": {}", text, what));
  };

  if (text.empty()) return bad("empty reference");
  if (is_anchored_identifier(text))
    return bad("cannot specify 64-byte hexadecimal strings (that is an image id, not a name)");

  reference ref;
  std::string_view name = text;
  if (auto at = text.find('@'); at != std::string_view::npos) {
    name = text.substr(0, at);
    ref.digest = text.substr(at + 1);
    if (ref.digest.empty()) return bad("empty digest after '@'");
  }
  // A ':' after the last '/' starts the tag; one before it is a port.
  auto last_slash = name.rfind('/');
  auto last_colon = name.rfind(':');
  if (last_colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || last_colon > last_slash)) {
    ref.tag = name.substr(last_colon + 1);
    name = name.substr(0, last_colon);
    if (ref.tag.empty()) return bad("empty tag after ':'");
  }
  if (name.empty()) return bad("missing repository name");

  // The first component names a registry when it looks like a host
  // (has '.' or ':'), is "localhost", or has uppercase letters (which a
  // repository cannot); otherwise the registry is Docker Hub.
  std::string_view domain = default_domain;
  std::string_view path = name;
  if (auto slash = name.find('/'); slash != std::string_view::npos) {
    auto first = name.substr(0, slash);
    if (first == "localhost" || first.find_first_of(".:") != std::string_view::npos ||
        has_upper(first)) {
      domain = first;
      path = name.substr(slash + 1);
    }
  }

  if (domain != default_domain && !is_domain(domain))
    return bad(fmt::format("invalid registry host \"{}\"", domain));
  if (has_upper(path)) return bad("repository name must be lowercase");
  std::size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    auto component = path.substr(start, slash - start);
    if (component.empty()) return bad("empty path component in repository name");
    if (!is_path_component(component))
      return bad(fmt::format(
          "invalid repository path component \"{}\" (want lowercase letters and digits, "
          "separated by '.', '_', '__' or dashes)",
          component));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (!ref.tag.empty() && !is_tag(ref.tag))
    return bad(fmt::format(
        "invalid tag \"{}\" (want up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-')",
        ref.tag));
  if (!ref.digest.empty()) {
    if (auto problem = digest_problem(ref.digest); !problem.empty()) return bad(problem);
  }

  ref.registry = domain == legacy_default_domain ? default_domain : domain;
  ref.repository = path;
  if (ref.registry == default_domain && path.find('/') == std::string_view::npos)
    ref.repository = std::string(official_repo_prefix) + ref.repository;
  if (ref.name().size() > name_total_length_max)
    return bad(
        fmt::format("repository name must not be more than {} characters", name_total_length_max));
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace ringcri::image
