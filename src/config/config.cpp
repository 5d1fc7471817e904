#include "config/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <toml++/toml.h>

#include "base/sys/tcp_listener.hpp"

namespace ringcri::config {

namespace {

// A cap below a few lines would rotate at nearly every line.
constexpr std::uint64_t min_keeper_log_bytes = 4096;

result<void> read_path(const toml::table& t, const std::string& origin, const char* key,
                       std::filesystem::path& out) {
  if (auto node = t.get(key)) {
    auto v = node->value<std::string>();
    if (!v) return fail(error_kind::invalid_argument, fmt::format("{}: key '{}' must be a string", origin, key));
    out = *v;
  }
  return {};
}

// A TOML integer, and only that. node::value<int64_t>() also takes a float
// and casts it, undefined behaviour for one out of int64_t's range
// (pids_limit = 1e24).
std::optional<std::int64_t> integer_of(const toml::node& node) {
  if (auto v = node.as_integer()) return v->get();
  return std::nullopt;
}

// A table key as a key path shows it: bare when TOML allows, else quoted.
std::string key_name(std::string_view key) {
  bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
  if (bare) return std::string(key);
  std::string out = "\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A host from a Docker-config-style key: "https://index.docker.io/v1/" ->
// "docker.io", "http://r.io:5000/x" -> "r.io:5000", "r.io" -> "r.io".
std::string registry_host(std::string_view key) {
  if (auto sep = key.find("://"); sep != std::string_view::npos) key.remove_prefix(sep + 3);
  key = key.substr(0, key.find('/'));
  if (key == "index.docker.io" || key == "registry-1.docker.io") return "docker.io";
  return std::string(key);
}

result<void> read_registry_auth(const toml::node& node, const std::string& origin,
                                const std::string& path, registry_auth& out) {
  auto t = node.as_table();
  if (!t)
    return fail(error_kind::invalid_argument,
                fmt::format("{}: key '{}' must be a table", origin, path));
  for (const auto& [key, value] : *t) {
    std::string* field = key == "username"         ? &out.username
                         : key == "password"       ? &out.password
                         : key == "auth"           ? &out.auth
                         : key == "identity_token" ? &out.identity_token
                                                   : nullptr;
    if (!field)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: unknown key '{}.{}'", origin, path, key_name(key.str())));
    auto v = value.as_string();
    if (!v)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key '{}.{}' must be a string", origin, path, key.str()));
    *field = v->get();
  }
  return {};
}

result<void> read_registry(const toml::node& node, const std::string& origin, registry_config& r) {
  auto t = node.as_table();
  if (!t)
    return fail(error_kind::invalid_argument,
                fmt::format("{}: key 'registry' must be a table", origin));
  static constexpr std::array known = {"config_path", "max_concurrent_downloads", "auths"};
  for (const auto& [key, value] : *t) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end())
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: unknown key 'registry.{}'", origin, key_name(key.str())));
  }
  if (auto n = t->get("config_path")) {
    auto v = n->as_string();
    if (!v)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'registry.config_path' must be a string", origin));
    r.config_path = v->get();
  }
  if (auto n = t->get("max_concurrent_downloads")) {
    auto v = n->as_integer();
    if (!v || v->get() < 1 || v->get() > 64)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'registry.max_concurrent_downloads' must be an integer "
                              "from 1 to 64",
                              origin));
    r.max_concurrent_downloads = static_cast<unsigned>(v->get());
  }
  if (auto n = t->get("auths")) {
    auto auths = n->as_table();
    if (!auths)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'registry.auths' must be a table", origin));
    for (const auto& [key, value] : *auths) {
      std::string path = fmt::format("registry.auths.\"{}\"", key.str());
      std::string host = registry_host(key.str());
      if (host.empty())
        return fail(error_kind::invalid_argument,
                    fmt::format("{}: key '{}' names no registry host", origin, path));
      registry_auth a;
      if (auto res = read_registry_auth(value, origin, path, a); !res) return res;
      if (!r.auths.emplace(host, std::move(a)).second)
        return fail(
            error_kind::invalid_argument,
            fmt::format("{}: key '{}': registry {} has credentials twice", origin, path, host));
    }
  }
  return {};
}

// "90s", "5m", "1m30s", "1h" (Go's and so kubelet's duration form, whole
// seconds only) as seconds; nullopt when it is not one.
std::optional<std::int64_t> parse_duration_seconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  while (!text.empty()) {
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])) != 0)
      ++digits;
    if (digits == 0 || digits > 9 || digits == text.size()) return std::nullopt;
    std::int64_t n = std::stoll(std::string(text.substr(0, digits)));
    text.remove_prefix(digits);
    std::int64_t unit = text[0] == 'h' ? 3600 : text[0] == 'm' ? 60 : text[0] == 's' ? 1 : 0;
    // "ms" and smaller are not whole seconds.
    if (unit == 0 || (text[0] == 'm' && text.size() > 1 && text[1] == 's')) return std::nullopt;
    text.remove_prefix(1);
    total += n * unit;
    if (total > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  }
  return total;
}

result<void> read_byte_count(const toml::table& t, const std::string& origin, const char* key,
                             std::uint64_t& out) {
  auto n = t.get(key);
  if (!n) return {};
  auto v = n->as_integer();
  if (!v || v->get() < 0)
    return fail(error_kind::invalid_argument,
                fmt::format("{}: key 'image.{}' must be a number of bytes (an integer, 0 or more)",
                            origin, key));
  out = static_cast<std::uint64_t>(v->get());
  return {};
}

result<void> read_image(const toml::node& node, const std::string& origin,
                        image_pull_config& image) {
  auto t = node.as_table();
  if (!t)
    return fail(error_kind::invalid_argument,
                fmt::format("{}: key 'image' must be a table", origin));
  static constexpr std::array known = {"max_layer_bytes", "min_free_bytes",
                                       "pull_progress_timeout", "layer_store"};
  for (const auto& [key, value] : *t) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end())
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: unknown key 'image.{}'", origin, key_name(key.str())));
  }
  if (auto r = read_byte_count(*t, origin, "max_layer_bytes", image.max_layer_bytes); !r) return r;
  if (auto r = read_byte_count(*t, origin, "min_free_bytes", image.min_free_bytes); !r) return r;
  if (auto n = t->get("pull_progress_timeout")) {
    std::optional<std::int64_t> seconds;
    if (auto i = n->as_integer()) {
      if (i->get() >= 0 && i->get() <= std::numeric_limits<std::uint32_t>::max())
        seconds = i->get();
    } else if (auto str = n->as_string()) {
      seconds = parse_duration_seconds(str->get());
    }
    if (!seconds)
      return fail(
          error_kind::invalid_argument,
          fmt::format("{}: key 'image.pull_progress_timeout' must be a number of seconds or a "
                      "duration such as \"90s\", \"5m\" or \"1m30s\" (0: no timeout)",
                      origin));
    image.pull_progress_timeout_seconds = static_cast<std::uint32_t>(*seconds);
  }
  if (auto n = t->get("layer_store")) {
    auto str = n->as_string();
    if (!str || (str->get() != "auto" && str->get() != "dir" && str->get() != "erofs"))
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'image.layer_store' must be \"auto\", \"dir\" or \"erofs\"",
                              origin));
    image.layer_store = str->get();
  }
  return {};
}

result<void> read_cni(const toml::node& node, const std::string& origin, cni_config& cni) {
  auto t = node.as_table();
  if (!t) return fail(error_kind::invalid_argument, fmt::format("{}: key 'cni' must be a table", origin));
  for (const auto& [key, value] : *t) {
    if (key.str() != "conf_dir" && key.str() != "plugin_dirs" && key.str() != "native")
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: unknown key 'cni.{}'", origin, key_name(key.str())));
  }
  if (auto n = t->get("conf_dir")) {
    auto v = n->as_string();
    if (!v || v->get().empty() || v->get()[0] != '/')
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'cni.conf_dir' must be an absolute path", origin));
    cni.conf_dir = v->get();
  }
  if (auto n = t->get("native")) {
    auto v = n->as_string();
    if (!v || (v->get() != "auto" && v->get() != "off"))
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'cni.native' must be \"auto\" or \"off\"", origin));
    cni.native = v->get() == "auto";
  }
  if (auto n = t->get("plugin_dirs")) {
    auto list = n->as_array();
    if (!list || list->empty())
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'cni.plugin_dirs' must be a list of absolute paths", origin));
    cni.plugin_dirs.clear();
    for (const auto& item : *list) {
      auto v = item.as_string();
      if (!v || v->get().empty() || v->get()[0] != '/')
        return fail(error_kind::invalid_argument,
                    fmt::format("{}: key 'cni.plugin_dirs' must be a list of absolute paths", origin));
      cni.plugin_dirs.emplace_back(v->get());
    }
  }
  return {};
}

// [runtimes."<name>"] tables.
result<void> read_runtimes(const toml::node& node, const std::string& origin,
                           std::map<std::string, runtime_handler_config>& runtimes) {
  auto t = node.as_table();
  if (!t)
    return fail(error_kind::invalid_argument,
                fmt::format("{}: key 'runtimes' must be a table", origin));
  for (const auto& [name, value] : *t) {
    const std::string path = "runtimes." + key_name(name.str());
    if (name.str().empty())
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key '{}': a runtime handler needs a name (\"\" is the default "
                              "handler; configure it as runtimes.{})",
                              origin, path, default_runtime_handler));
    auto h = value.as_table();
    if (!h)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key '{}' must be a table", origin, path));
    runtime_handler_config handler;
    for (const auto& [key, v] : *h) {
      if (key.str() != "seccomp_profile")
        return fail(error_kind::invalid_argument,
                    fmt::format("{}: unknown key '{}.{}'", origin, path, key_name(key.str())));
      auto s = v.as_string();
      if (!s || (s->get() != "" && s->get() != "unconfined" && s->get() != "runtime/default"))
        return fail(error_kind::invalid_argument,
                    fmt::format("{}: key '{}.seccomp_profile' must be \"runtime/default\" or "
                                "\"unconfined\"",
                                origin, path));
      handler.seccomp_profile = s->get();
    }
    runtimes[std::string(name.str())] = std::move(handler);
  }
  return {};
}

}  // namespace

const runtime_handler_config* config::runtime_handler(std::string_view name) const {
  static const runtime_handler_config builtin;
  if (name.empty()) name = default_runtime_handler;
  if (auto it = runtimes.find(std::string(name)); it != runtimes.end()) return &it->second;
  return name == default_runtime_handler ? &builtin : nullptr;
}

result<config> parse(std::string_view text, const std::string& origin, config c) {
  toml::table t;
  try {
    t = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return fail(error_kind::invalid_argument,
                fmt::format("{}:{}:{}: {}", origin, where.line, where.column, e.description()));
  }

  static constexpr std::array known = {"root",
                                       "state",
                                       "socket",
                                       "cores",
                                       "log_level",
                                       "log_target",
                                       "keeper_log_max_bytes",
                                       "cgroup_driver",
                                       "cgroup_favordynmods",
                                       "registry",
                                       "stream_server_address",
                                       "stream_server_port",
                                       "pids_limit",
                                       "metrics_address",
                                       "cni",
                                       "image",
                                       "runtimes"};
  for (const auto& [key, value] : t) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end())
      return fail(error_kind::invalid_argument, fmt::format("{}: unknown key '{}'", origin, key.str()));
  }

  for (auto [key, field] : {std::pair{"root", &c.root_dir}, std::pair{"state", &c.state_dir},
                            std::pair{"socket", &c.socket}}) {
    if (auto r = read_path(t, origin, key, *field); !r) return tl::unexpected(r.error());
  }
  if (auto node = t.get("cores")) {
    auto v = integer_of(*node);
    if (!v || *v < 0 || *v > 1024)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'cores' must be an integer from 0 to 1024", origin));
    c.cores = static_cast<unsigned>(*v);
  }
  if (auto node = t.get("log_level")) {
    auto v = node->value<std::string>();
    if (!v) return fail(error_kind::invalid_argument, fmt::format("{}: key 'log_level' must be a string", origin));
    c.log_level = *v;
  }
  if (auto node = t.get("log_target")) {
    auto v = node->value<std::string>();
    if (!v)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'log_target' must be \"auto\", \"stderr\" or \"journald\"", origin));
    c.log_target = *v;
  }
  if (auto node = t.get("keeper_log_max_bytes")) {
    auto v = integer_of(*node);
    if (!v || *v < static_cast<std::int64_t>(min_keeper_log_bytes))
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'keeper_log_max_bytes' must be a number of bytes, {} or more", origin,
                              min_keeper_log_bytes));
    c.keeper_log_max_bytes = static_cast<std::uint64_t>(*v);
  }
  if (auto node = t.get("cgroup_driver")) {
    auto v = node->value<std::string>();
    if (!v) return fail(error_kind::invalid_argument, fmt::format("{}: key 'cgroup_driver' must be a string", origin));
    c.cgroup_driver = *v;
  }
  if (auto node = t.get("cgroup_favordynmods")) {
    auto v = node->value<bool>();
    if (!v)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'cgroup_favordynmods' must be true or false", origin));
    c.cgroup_favordynmods = *v;
  }
  if (auto node = t.get("stream_server_address")) {
    auto v = node->value<std::string>();
    if (!v)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'stream_server_address' must be a string", origin));
    c.stream_server_address = *v;
  }
  if (auto node = t.get("stream_server_port")) {
    auto v = integer_of(*node);
    if (!v || *v < 0 || *v > 65535)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'stream_server_port' must be an integer from 0 to 65535", origin));
    c.stream_server_port = static_cast<unsigned>(*v);
  }
  if (auto node = t.get("metrics_address")) {
    auto v = node->value<std::string>();
    if (!v)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'metrics_address' must be a string (\"127.0.0.1:9090\", or \"\" for none)",
                              origin));
    c.metrics_address = *v;
  }
  if (auto node = t.get("pids_limit")) {
    auto v = integer_of(*node);
    if (!v || *v < 0)
      return fail(error_kind::invalid_argument,
                  fmt::format("{}: key 'pids_limit' must be an integer, 0 for no limit", origin));
    c.pids_limit = *v;
  }
  if (auto node = t.get("cni")) {
    if (auto r = read_cni(*node, origin, c.cni); !r) return tl::unexpected(r.error());
  }
  if (auto node = t.get("registry")) {
    if (auto r = read_registry(*node, origin, c.registry); !r) return tl::unexpected(r.error());
  }
  if (auto node = t.get("image")) {
    if (auto r = read_image(*node, origin, c.image); !r) return tl::unexpected(r.error());
  }
  if (auto node = t.get("runtimes")) {
    if (auto r = read_runtimes(*node, origin, c.runtimes); !r) return tl::unexpected(r.error());
  }
  if (auto r = validate(c); !r) return tl::unexpected(std::move(r.error()).context(origin));
  return c;
}

result<config> load_file(const std::filesystem::path& file, config base) {
  std::ifstream in(file);
  if (!in) return fail_errno(errno, fmt::format("read config {}", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string(), std::move(base));
}

result<void> validate(const config& c) {
  static constexpr std::array levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(levels.begin(), levels.end(), c.log_level) == levels.end())
    return fail(error_kind::invalid_argument,
                fmt::format("log_level '{}' is not one of trace, debug, info, warn, error, critical, off",
                            c.log_level));
  if (c.log_target != "auto" && c.log_target != "stderr" && c.log_target != "journald")
    return fail(error_kind::invalid_argument,
                fmt::format("log_target '{}' is not one of auto, stderr, journald", c.log_target));
  if (c.keeper_log_max_bytes < min_keeper_log_bytes)
    return fail(error_kind::invalid_argument,
                fmt::format("keeper_log_max_bytes {} is below {}", c.keeper_log_max_bytes, min_keeper_log_bytes));
  if (c.cgroup_driver != "cgroupfs" && c.cgroup_driver != "systemd")
    return fail(error_kind::invalid_argument,
                fmt::format("cgroup_driver '{}' is not one of cgroupfs, systemd", c.cgroup_driver));
  for (auto [name, p] : {std::pair{"root", &c.root_dir}, std::pair{"state", &c.state_dir}}) {
    if (!p->is_absolute())
      return fail(error_kind::invalid_argument, fmt::format("{} '{}' must be an absolute path", name, p->string()));
  }
  if (!c.registry.config_path.is_absolute())
    return fail(error_kind::invalid_argument,
                fmt::format("registry.config_path '{}' must be an absolute path",
                            c.registry.config_path.string()));
  if (c.registry.max_concurrent_downloads < 1 || c.registry.max_concurrent_downloads > 64)
    return fail(error_kind::invalid_argument,
                fmt::format("registry.max_concurrent_downloads {} is not from 1 to 64",
                            c.registry.max_concurrent_downloads));
  if (!c.metrics_address.empty())
    if (auto where = sys::split_host_port(c.metrics_address, "metrics_address"); !where)
      return tl::unexpected(where.error());
  if (!c.socket.empty() && !c.socket.is_absolute())
    return fail(error_kind::invalid_argument,
                fmt::format("socket '{}' must be an absolute path", c.socket.string()));
  return {};
}

// --- provenance --------------------------------------------------------------

std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
          out += fmt::format("\\u{:04X}", static_cast<unsigned char>(ch));
        else
          out += ch;
    }
  }
  return out + "\"";
}

std::string key_path(std::string_view parent, std::string_view key) {
  // Bare where key_name leaves it bare; quoted, every control character
  // escaped, where not (error messages quote more loosely).
  std::string part = key_name(key);
  if (part != key) part = toml_string(key);
  return parent.empty() ? part : fmt::format("{}.{}", parent, part);
}

namespace {

// Every key of `t` below `parent` with the line of its value.
void collect_lines(const toml::table& t, const std::string& parent, key_lines& out) {
  for (const auto& [key, value] : t) {
    const std::string path = key_path(
        parent, parent == "registry.auths" ? registry_host(key.str()) : std::string(key.str()));
    out[path] = value.source().begin.line;
    if (const auto* sub = value.as_table()) collect_lines(*sub, path, out);
  }
}

// A key path with its quotes dropped: errors quote some parts that a file
// may write bare ("registry.auths.\"r.io\"" for registry.auths."r.io").
std::string unquoted(std::string_view path) {
  std::string out;
  for (char ch : path)
    if (ch != '"' && ch != '\\') out += ch;
  return out;
}

std::optional<std::uint32_t> line_of(const toml::table& t, std::string_view wanted,
                                     const std::string& parent) {
  for (const auto& [key, value] : t) {
    const std::string path =
        parent.empty() ? unquoted(key.str()) : parent + "." + unquoted(key.str());
    if (path == wanted) return value.source().begin.line;
    if (const auto* sub = value.as_table(); sub && wanted.starts_with(path + "."))
      if (auto line = line_of(*sub, wanted, path)) return line;
  }
  return std::nullopt;
}

// "<origin>: key 'cores' must be..." as "<origin>:<line>: key 'cores'...",
// the line of the key the message names ("key '<path>'", or a value
// validate() names first: "log_level 'loud' is not..."). The messages stay
// those of parse(), which tests and users know; only the line is added.
error with_line(error e, const std::string& origin, const toml::table& t) {
  const std::string prefix = origin + ": ";
  const std::string& message = e.message();
  if (!message.starts_with(prefix)) return e;
  const std::string_view rest = std::string_view(message).substr(prefix.size());
  std::string_view path;
  if (auto at = rest.find("key '"); at != std::string_view::npos) {
    path = rest.substr(at + 5);
    path = path.substr(0, path.find('\''));
  } else {
    path = rest.substr(0, rest.find_first_of(" ':"));
  }
  auto line = line_of(t, unquoted(path), "");
  if (!line) return e;
  return error(e.kind(), fmt::format("{}:{}: {}", origin, *line, rest), e.sys_errno());
}

}  // namespace

result<config> parse(std::string_view text, const std::string& origin, config base,
                     key_lines& lines) {
  auto parsed = parse(text, origin, std::move(base));
  toml::table t;
  try {
    t = toml::parse(text, origin);
  } catch (const toml::parse_error&) {
    return parsed;  // a syntax error: parse() named its line and column
  }
  if (!parsed) return tl::unexpected(with_line(std::move(parsed.error()), origin, t));
  collect_lines(t, "", lines);
  return parsed;
}

result<config> load_file(const std::filesystem::path& file, config base, key_lines& lines) {
  std::ifstream in(file);
  if (!in) return fail_errno(errno, fmt::format("read config {}", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string(), std::move(base), lines);
}

}  // namespace ringcri::config
