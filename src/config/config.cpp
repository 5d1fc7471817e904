#include "config/config.hpp"

#include <fmt/format.h>

#include <array>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

namespace ringcri::config {

namespace {

result<void> read_path(const toml::table& t, const std::string& origin, const char* key,
                       std::filesystem::path& out) {
  if (auto node = t.get(key)) {
    auto v = node->value<std::string>();
    if (!v) return fail(error_kind::invalid_argument, fmt::format("{}: key '{}' must be a string", origin, key));
    out = *v;
  }
  return {};
}

}  // namespace

result<config> parse(std::string_view text, const std::string& origin, config c) {
  toml::table t;
  try {
    t = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return fail(error_kind::invalid_argument,
                fmt::format("{}:{}:{}: {}", origin, where.line, where.column, e.description()));
  }

  static constexpr std::array known = {"root", "state", "socket", "cores", "log_level", "cgroup_driver"};
  for (const auto& [key, value] : t) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end())
      return fail(error_kind::invalid_argument, fmt::format("{}: unknown key '{}'", origin, key.str()));
  }

  for (auto [key, field] : {std::pair{"root", &c.root_dir}, std::pair{"state", &c.state_dir},
                            std::pair{"socket", &c.socket}}) {
    if (auto r = read_path(t, origin, key, *field); !r) return tl::unexpected(r.error());
  }
  if (auto node = t.get("cores")) {
    auto v = node->value<int64_t>();
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
  if (auto node = t.get("cgroup_driver")) {
    auto v = node->value<std::string>();
    if (!v) return fail(error_kind::invalid_argument, fmt::format("{}: key 'cgroup_driver' must be a string", origin));
    c.cgroup_driver = *v;
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
  if (c.cgroup_driver != "cgroupfs" && c.cgroup_driver != "systemd")
    return fail(error_kind::invalid_argument,
                fmt::format("cgroup_driver '{}' is not one of cgroupfs, systemd", c.cgroup_driver));
  for (auto [name, p] : {std::pair{"root", &c.root_dir}, std::pair{"state", &c.state_dir}}) {
    if (!p->is_absolute())
      return fail(error_kind::invalid_argument, fmt::format("{} '{}' must be an absolute path", name, p->string()));
  }
  if (!c.socket.empty() && !c.socket.is_absolute())
    return fail(error_kind::invalid_argument,
                fmt::format("socket '{}' must be an absolute path", c.socket.string()));
  return {};
}

}  // namespace ringcri::config
