#include "config/reload.hpp"

namespace ringcri::config {

namespace {

template <class T>
void differs(std::vector<std::string>& out, const char* key, const T& a, const T& b) {
  if (!(a == b)) out.emplace_back(key);
}

}  // namespace

std::vector<std::string> keys_needing_restart(const config& a, const config& b) {
  std::vector<std::string> out;
  differs(out, "root", a.root_dir, b.root_dir);
  differs(out, "state", a.state_dir, b.state_dir);
  differs(out, "socket", a.socket_path(), b.socket_path());
  differs(out, "cores", a.cores, b.cores);
  differs(out, "log_target", a.log_target, b.log_target);
  differs(out, "keeper_log_max_bytes", a.keeper_log_max_bytes, b.keeper_log_max_bytes);
  differs(out, "cgroup_driver", a.cgroup_driver, b.cgroup_driver);
  differs(out, "cgroup_favordynmods", a.cgroup_favordynmods, b.cgroup_favordynmods);
  differs(out, "stream_server_address", a.stream_server_address, b.stream_server_address);
  differs(out, "stream_server_port", a.stream_server_port, b.stream_server_port);
  differs(out, "metrics_address", a.metrics_address, b.metrics_address);
  differs(out, "pids_limit", a.pids_limit, b.pids_limit);
  differs(out, "image.max_layer_bytes", a.image.max_layer_bytes, b.image.max_layer_bytes);
  differs(out, "image.min_free_bytes", a.image.min_free_bytes, b.image.min_free_bytes);
  differs(out, "image.pull_progress_timeout", a.image.pull_progress_timeout_seconds,
          b.image.pull_progress_timeout_seconds);
  differs(out, "image.layer_store", a.image.layer_store, b.image.layer_store);
  differs(out, "runtimes", a.runtimes, b.runtimes);
  return out;
}

std::vector<std::string> keys_reloaded(const config& a, const config& b) {
  std::vector<std::string> out;
  differs(out, "log_level", a.log_level, b.log_level);
  differs(out, "registry.config_path", a.registry.config_path, b.registry.config_path);
  differs(out, "registry.max_concurrent_downloads", a.registry.max_concurrent_downloads,
          b.registry.max_concurrent_downloads);
  differs(out, "registry.auths", a.registry.auths, b.registry.auths);
  differs(out, "cni.conf_dir", a.cni.conf_dir, b.cni.conf_dir);
  differs(out, "cni.plugin_dirs", a.cni.plugin_dirs, b.cni.plugin_dirs);
  differs(out, "cni.native", a.cni.native, b.cni.native);
  return out;
}

config reloadable_part(const config& running, const config& loaded) {
  config out = running;
  out.log_level = loaded.log_level;
  out.registry = loaded.registry;
  out.cni = loaded.cni;
  return out;
}

}  // namespace ringcri::config
