#include "config/to_toml.hpp"

#include <fmt/format.h>

#include <string_view>
#include <type_traits>

namespace ringcri::config {

namespace {

class writer {
 public:
  explicit writer(const key_origins& origins) : origins_(origins) {}

  void table(const std::string& path, bool with_origin = false) {
    table_ = path;
    out_ += fmt::format("\n[{}]", path);
    if (with_origin) out_ += fmt::format("  # from {}", origin_of(path));
    out_ += '\n';
  }

  // `toml`: the value as TOML text.
  void put(std::string_view name, const std::string& toml, std::string_view note = {}) {
    const std::string path = key_path(table_, name);
    out_ += fmt::format("{} = {}  # from {}{}\n", key_path("", name), toml, origin_of(path), note);
  }
  void key(std::string_view name, std::string_view value) { put(name, toml_string(value)); }
  void key(std::string_view name, const char* value) { put(name, toml_string(value)); }
  void key(std::string_view name, bool value) { put(name, value ? "true" : "false"); }
  template <class Int>
  requires std::is_integral_v<Int>
  void key(std::string_view name, Int value) { put(name, fmt::format("{}", value)); }

  // A secret is never written: a comment says whether it is set. An unset
  // one is written as the empty string it is.
  void secret(std::string_view name, const std::string& value) {
    if (value.empty()) return key(name, value);
    out_ += fmt::format("# {} is set (not shown)  # from {}\n", key_path("", name),
                        origin_of(key_path(table_, name)));
  }

  std::string take() { return std::move(out_); }

 private:
  std::string origin_of(const std::string& path) const {
    auto it = origins_.find(path);
    return it == origins_.end() ? "default" : it->second;
  }

  const key_origins& origins_;
  std::string table_;
  std::string out_;
};

}  // namespace

std::string to_toml(const config& c, const key_origins& origins) {
  writer w(origins);
  w.key("root", c.root_dir.string());
  w.key("state", c.state_dir.string());
  if (c.socket.empty())
    w.put("socket", toml_string(c.socket_path().string()), " (<state>/ringcri.sock)");
  else
    w.key("socket", c.socket.string());
  w.key("cores", c.cores);
  w.key("log_level", c.log_level);
  w.key("log_target", c.log_target);
  w.key("keeper_log_max_bytes", c.keeper_log_max_bytes);
  w.key("cgroup_driver", c.cgroup_driver);
  w.key("cgroup_favordynmods", c.cgroup_favordynmods);
  w.key("stream_server_address", c.stream_server_address);
  w.key("stream_server_port", c.stream_server_port);
  w.key("metrics_address", c.metrics_address);
  w.key("pids_limit", c.pids_limit);

  w.table("registry");
  w.key("config_path", c.registry.config_path.string());
  w.key("max_concurrent_downloads", c.registry.max_concurrent_downloads);
  if (c.registry.auths.empty()) w.table("registry.auths", true);
  for (const auto& [host, auth] : c.registry.auths) {
    w.table(key_path("registry.auths", host), true);
    w.key("username", auth.username);
    w.secret("password", auth.password);
    w.secret("auth", auth.auth);
    w.secret("identity_token", auth.identity_token);
  }

  w.table("image");
  w.key("max_layer_bytes", c.image.max_layer_bytes);
  w.key("min_free_bytes", c.image.min_free_bytes);
  w.key("pull_progress_timeout", c.image.pull_progress_timeout_seconds);
  w.key("layer_store", c.image.layer_store);

  w.table("cni");
  w.key("conf_dir", c.cni.conf_dir.string());
  std::string dirs = "[";
  for (const auto& dir : c.cni.plugin_dirs) {
    if (dirs.size() > 1) dirs += ", ";
    dirs += toml_string(dir.string());
  }
  w.put("plugin_dirs", dirs + "]");
  w.key("native", c.cni.native ? "auto" : "off");

  if (c.runtimes.empty()) w.table("runtimes", true);
  for (const auto& [name, handler] : c.runtimes) {
    w.table(key_path("runtimes", name), true);
    w.key("seccomp_profile", handler.seccomp_profile);
  }
  return w.take();
}

}  // namespace ringcri::config
