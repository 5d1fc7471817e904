#include "image/source/registry_hosts.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <optional>

#include "image/source/reference.hpp"

// containerd's hosts.toml (docs/hosts.md; core/remotes/docker/config):
// top-level keys configure the upstream `server`, each [host."<url>"]
// table a mirror, tried in file order before the server.

namespace ringcri::image {

namespace {

constexpr std::string_view docker_hub = "docker.io";
constexpr std::string_view docker_hub_api_host = "registry-1.docker.io";

// Keys of containerd's format that ringcri does not act on: an error
// rather than a setting silently ignored.
constexpr std::array unsupported_keys = {"dial_timeout", "proxy"};

// Where in which file a value sits, for error messages:
// "<file>: host."https://m".capabilities: <what>".
struct location {
  const std::string& file;
  std::string table;  // "" for the top level, `host."<url>"` for a mirror

  tl::unexpected<error> fail_at(std::string_view key, std::string_view what) const {
    std::string_view dot = table.empty() || key.empty() ? "" : ".";
    return fail(error_kind::invalid_argument,
                fmt::format("{}: {}{}{}: {}", file, table, dot, key, what));
  }
};

std::string quote_key(std::string_view key) {
  std::string out = "\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A key as TOML would need it written: bare when it can be, else quoted.
std::string key_name(std::string_view key) {
  bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
  return bare ? std::string(key) : quote_key(key);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "/a/./b//c/../" -> "/a/b"; "" and "/" -> "".
std::string clean_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto part = path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (auto part : parts) (out += '/') += part;
  return out;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

// host[:port] as a URL carries it; empty when good, else what is wrong.
std::string host_problem(std::string_view host) {
  if (host.empty()) return "no host in URL";
  std::string_view port;
  if (host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos || close == 1)
      return fmt::format("bad IPv6 host \"{}\"", host);
    auto inside = host.substr(1, close - 1);
    if (!std::all_of(inside.begin(), inside.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
        }))
      return fmt::format("bad IPv6 host \"{}\"", host);
    auto rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return fmt::format("bad host \"{}\"", host);
    if (!rest.empty()) port = rest.substr(1);
    if (!rest.empty() && port.empty()) return fmt::format("empty port in \"{}\"", host);
  } else {
    auto colon = host.find(':');
    auto name = host.substr(0, colon);
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_host_char))
      return fmt::format("bad host \"{}\"", host);
    if (colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      if (port.empty()) return fmt::format("empty port in \"{}\"", host);
    }
  }
  if (!port.empty()) {
    bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoul(std::string(port)) > 65535)
      return fmt::format("bad port \"{}\"", port);
  }
  return {};
}

// Fills scheme, host and path of `ep` from a server or mirror URL. Without
// a scheme the URL is https (as containerd reads it). The path is the API
// root: "/v2" is appended unless it ends so already or override_path.
std::string apply_url(std::string_view url, bool override_path, registry_endpoint& ep) {
  std::string_view rest = url;
  ep.scheme = "https";
  if (auto sep = url.find("://"); sep != std::string_view::npos) {
    ep.scheme = lower(url.substr(0, sep));
    if (ep.scheme != "http" && ep.scheme != "https")
      return fmt::format("unsupported scheme \"{}\" (want http or https)", url.substr(0, sep));
    rest = url.substr(sep + 3);
  }
  if (rest.find_first_of("?#") != std::string_view::npos)
    return "a query or fragment is not allowed in a registry URL";
  if (rest.find('@') != std::string_view::npos)
    return "user info is not allowed in a registry URL (put credentials in [registry.auths])";
  auto slash = rest.find('/');
  auto host = rest.substr(0, slash);
  if (auto problem = host_problem(host); !problem.empty()) return problem;
  ep.host = host;
  ep.path = clean_path(slash == std::string_view::npos ? std::string_view{} : rest.substr(slash));
  bool ends_v2 = ep.path.size() >= 3 && ep.path.compare(ep.path.size() - 3, 3, "/v2") == 0;
  if (!override_path && !ends_v2) ep.path += "/v2";
  return {};
}

void apply_default_server(std::string_view registry, registry_endpoint& ep) {
  ep.path = "/v2";
  if (registry == docker_hub) {
    ep.scheme = "https";
    ep.host = docker_hub_api_host;
    return;
  }
  ep.host = registry;
  reference r;
  r.registry = registry;
  // Docker's insecure-registry rule for loopback: plain HTTP.
  ep.scheme = r.is_loopback() ? "http" : "https";
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date or time";
  }
}

std::filesystem::path absolute_in(const std::filesystem::path& dir, std::string_view p) {
  std::filesystem::path path(p);
  return path.is_absolute() ? path : dir / path;
}

// A string or an array of strings (`ca`, header values).
std::optional<std::vector<std::string>> strings_of(const toml::node& n) {
  if (auto s = n.as_string()) return std::vector<std::string>{s->get()};
  auto a = n.as_array();
  if (!a) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& item : *a) {
    auto s = item.as_string();
    if (!s) return std::nullopt;
    out.push_back(s->get());
  }
  return out;
}

result<void> read_capabilities(const toml::node& n, const location& at, registry_endpoint& ep) {
  auto a = n.as_array();
  if (!a)
    return at.fail_at("capabilities",
                      fmt::format("must be an array of strings, not {}", type_name(n)));
  if (a->empty()) return {};  // as containerd: an empty list means every capability
  ep.can_pull = ep.can_resolve = false;
  for (const auto& item : *a) {
    auto s = item.as_string();
    if (!s)
      return at.fail_at("capabilities",
                        fmt::format("must be an array of strings, not hold {}", type_name(item)));
    auto c = lower(s->get());
    if (c == "pull") {
      ep.can_pull = true;
    } else if (c == "resolve") {
      ep.can_resolve = true;
    } else if (c != "push") {
      return at.fail_at(
          "capabilities",
          fmt::format("unknown capability {} (want pull, resolve or push)", quote_key(s->get())));
    }
  }
  return {};
}

// A path (cert and key in one file), or an array whose items are such
// paths or [cert, key] pairs (key "" when the cert file holds it).
result<void> read_client(const toml::node& n, const location& at, const std::filesystem::path& dir,
                         registry_endpoint& ep) {
  static constexpr std::string_view want =
      "must be a path, an array of paths, or an array of [cert, key] pairs";
  auto path_of = [&](const std::string& p) -> result<std::filesystem::path> {
    if (p.empty()) return at.fail_at("client", "empty path");
    return absolute_in(dir, p);
  };
  if (auto s = n.as_string()) {
    auto cert = path_of(s->get());
    if (!cert) return tl::unexpected(cert.error());
    ep.client_certs.emplace_back(*cert, std::filesystem::path{});
    return {};
  }
  auto a = n.as_array();
  if (!a) return at.fail_at("client", want);
  for (const auto& item : *a) {
    if (auto s = item.as_string()) {
      auto cert = path_of(s->get());
      if (!cert) return tl::unexpected(cert.error());
      ep.client_certs.emplace_back(*cert, std::filesystem::path{});
      continue;
    }
    auto pair = item.as_array();
    if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string())
      return at.fail_at("client", want);
    auto cert = path_of(*(*pair)[0].value<std::string>());
    if (!cert) return tl::unexpected(cert.error());
    auto key_text = *(*pair)[1].value<std::string>();
    std::filesystem::path key =
        key_text.empty() ? std::filesystem::path{} : absolute_in(dir, key_text);
    ep.client_certs.emplace_back(*cert, key);
  }
  return {};
}

result<void> read_headers(const toml::node& n, const location& at, registry_endpoint& ep) {
  auto t = n.as_table();
  if (!t) return at.fail_at("header", fmt::format("must be a table, not {}", type_name(n)));
  for (const auto& [name, value] : *t) {
    auto values = strings_of(value);
    if (!values)
      return at.fail_at(fmt::format("header.{}", key_name(name.str())),
                        "must be a string or an array of strings");
    ep.headers.emplace_back(std::string(name.str()), std::move(*values));
  }
  return {};
}

// The keys a server or a mirror share. `url` is the mirror's URL, or the
// `server` value (nullopt when the file has none).
result<registry_endpoint> read_endpoint(const toml::table& t, const location& at,
                                        const std::filesystem::path& dir,
                                        std::optional<std::string> url, std::string_view registry,
                                        bool top_level) {
  registry_endpoint ep;
  for (const auto& [key, value] : t) {
    auto k = key.str();
    if (k == "capabilities" || k == "skip_verify" || k == "ca" || k == "client" ||
        k == "override_path" || k == "header")
      continue;
    if (top_level && (k == "server" || k == "host")) continue;
    if (std::find(unsupported_keys.begin(), unsupported_keys.end(), k) != unsupported_keys.end())
      return at.fail_at(k, "a containerd key ringcri does not support");
    return at.fail_at(key_name(k), "unknown key");
  }

  bool override_path = false;
  if (auto n = t.get("override_path")) {
    auto b = n->as_boolean();
    if (!b)
      return at.fail_at("override_path", fmt::format("must be a boolean, not {}", type_name(*n)));
    override_path = b->get();
  }
  if (url) {
    if (auto problem = apply_url(*url, override_path, ep); !problem.empty())
      return at.fail_at(top_level ? "server" : "", problem);
  } else {
    apply_default_server(registry, ep);
  }
  if (auto n = t.get("capabilities")) {
    if (auto r = read_capabilities(*n, at, ep); !r) return tl::unexpected(r.error());
  }
  if (auto n = t.get("skip_verify")) {
    auto b = n->as_boolean();
    if (!b)
      return at.fail_at("skip_verify", fmt::format("must be a boolean, not {}", type_name(*n)));
    ep.skip_verify = b->get();
  }
  if (auto n = t.get("ca")) {
    auto paths = strings_of(*n);
    if (!paths) return at.fail_at("ca", "must be a path or an array of paths");
    for (const auto& p : *paths) {
      if (p.empty()) return at.fail_at("ca", "empty path");
      ep.ca_files.push_back(absolute_in(dir, p));
    }
  }
  if (auto n = t.get("client")) {
    if (auto r = read_client(*n, at, dir, ep); !r) return tl::unexpected(r.error());
  }
  if (auto n = t.get("header")) {
    if (auto r = read_headers(*n, at, ep); !r) return tl::unexpected(r.error());
  }
  ep.is_mirror = !top_level;
  return ep;
}

// The file's contents, nullopt when it does not exist.
result<std::optional<std::string>> read_if_exists(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>{};
    return tl::unexpected(error::from_errno(errno, fmt::format("read {}", file.string())));
  }
  std::string text;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return tl::unexpected(error::from_errno(e, fmt::format("read {}", file.string())));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>{std::move(text)};
}

}  // namespace

result<std::vector<registry_endpoint>> parse_hosts_toml(std::string_view text,
                                                        const std::filesystem::path& file,
                                                        std::string_view registry) {
  const std::string origin = file.string();
  const std::filesystem::path dir = file.parent_path();
  toml::table doc;
  try {
    doc = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return fail(error_kind::invalid_argument,
                fmt::format("{}:{}:{}: {}", origin, where.line, where.column, e.description()));
  }

  location top{origin, ""};
  std::optional<std::string> server;
  if (auto n = doc.get("server")) {
    auto s = n->as_string();
    if (!s) return top.fail_at("server", fmt::format("must be a string, not {}", type_name(*n)));
    server = s->get();
  }

  std::vector<registry_endpoint> endpoints;
  if (auto n = doc.get("host")) {
    auto hosts = n->as_table();
    if (!hosts) return top.fail_at("host", fmt::format("must be a table, not {}", type_name(*n)));
    // toml::table is ordered by key; containerd tries mirrors in file order.
    std::vector<std::pair<std::string_view, const toml::node*>> ordered;
    for (const auto& [url, value] : *hosts) ordered.emplace_back(url.str(), &value);
    auto position = [](const toml::node* n) {
      const auto& b = n->source().begin;
      return std::pair{b.line, b.column};
    };
    std::stable_sort(ordered.begin(), ordered.end(), [&](const auto& a, const auto& b) {
      return position(a.second) < position(b.second);
    });
    for (const auto& [url, value] : ordered) {
      location at{origin, fmt::format("host.{}", quote_key(url))};
      auto table = value->as_table();
      if (!table) return at.fail_at("", fmt::format("must be a table, not {}", type_name(*value)));
      auto ep = read_endpoint(*table, at, dir, std::string(url), registry, false);
      if (!ep) return tl::unexpected(ep.error());
      endpoints.push_back(std::move(*ep));
    }
  }

  auto upstream = read_endpoint(doc, top, dir, server, registry, true);
  if (!upstream) return tl::unexpected(upstream.error());
  endpoints.push_back(std::move(*upstream));
  return endpoints;
}

result<registry_hosts> hosts_for(const registry_settings& settings, std::string_view registry) {
  // The registry names a directory: nothing that could leave config_path.
  if (registry.empty() || registry == "." || registry == ".." ||
      registry.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos)
    return fail(error_kind::invalid_argument,
                fmt::format("invalid registry host \"{}\"", registry));

  for (const auto& dir : {std::string(registry), std::string("_default")}) {
    auto file = settings.config_path / dir / "hosts.toml";
    auto text = read_if_exists(file);
    if (!text) return tl::unexpected(text.error());
    if (!*text) continue;
    auto endpoints = parse_hosts_toml(**text, file, registry);
    if (!endpoints) return tl::unexpected(std::move(endpoints.error()));
    return registry_hosts{std::move(file), std::move(*endpoints)};
  }

  registry_endpoint upstream;
  apply_default_server(registry, upstream);
  return registry_hosts{{}, {std::move(upstream)}};
}

result<std::vector<registry_endpoint>> endpoints_for(const registry_settings& settings,
                                                     std::string_view registry) {
  auto hosts = hosts_for(settings, registry);
  if (!hosts) return tl::unexpected(std::move(hosts.error()));
  return std::move(hosts->endpoints);
}

}  // namespace ringcri::image
