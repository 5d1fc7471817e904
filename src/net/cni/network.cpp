// ADD, DEL and CHECK of a network list for one pod (see network.hpp).

#include "net/cni/network.hpp"

#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/vfs.h>

#include <nlohmann/json.hpp>

#include "net/cni/plugin_config.hpp"
#include "net/cni/version.hpp"

namespace ringcri::net::cni {

namespace {

std::string type_of(const network_list& list, size_t index) {
  const auto& plugin = list.plugins[index];
  if (!plugin.is_object()) return {};
  auto type = plugin.find("type");
  return type != plugin.end() && type->is_string() ? type->get<std::string>() : std::string();
}

// One plugin call for `pod`, everything but the command and config set.
result<invocation> invocation_for(std::string type, const attachment& pod,
                                  const std::vector<std::string>& plugin_dirs,
                                  std::chrono::milliseconds timeout) {
  auto args = cni_args(pod.args);
  if (!args) return tl::unexpected(std::move(args.error()));
  invocation inv;
  inv.type = std::move(type);
  inv.plugin_dirs = plugin_dirs;
  inv.container_id = pod.container_id;
  inv.netns_path = pod.netns_path;
  inv.ifname = pod.ifname;
  inv.args = std::move(*args);
  inv.timeout = timeout;
  return inv;
}

}  // namespace

result<std::string> run_plugin(command cmd, const network_list& list, size_t index,
                               const attachment& pod, std::string_view prev_result,
                               const std::vector<std::string>& plugin_dirs,
                               std::chrono::milliseconds timeout) {
  auto conf = plugin_stdin(list, index, prev_result, pod.port_mappings, pod.bandwidth);
  if (!conf) return tl::unexpected(std::move(conf.error()));
  return run_delegate(cmd, type_of(list, index), std::move(*conf), pod, plugin_dirs, timeout);
}

result<std::string> run_delegate(command cmd, const std::string& type, std::string stdin_json,
                                 const attachment& pod,
                                 const std::vector<std::string>& plugin_dirs,
                                 std::chrono::milliseconds timeout) {
  auto inv = invocation_for(type, pod, plugin_dirs, timeout);
  if (!inv) return tl::unexpected(std::move(inv.error()));
  inv->cmd = cmd;
  if (cmd == command::del && !inv->netns_path.empty() && !is_netns_file(inv->netns_path))
    inv->netns_path.clear();
  inv->stdin_json = std::move(stdin_json);
  return invoke_plugin(*inv);
}

std::string plugin_type(const network_list& list, size_t index) { return type_of(list, index); }

namespace {

std::string context_of(command cmd, const network_list& list) {
  return fmt::format("CNI {} network \"{}\"", to_string(cmd), list.name);
}

// DEL of every plugin, in reverse order; the first error.
result<void> del_all(const network_list& list, const attachment& pod, std::string_view prev_result,
                     const std::vector<std::string>& plugin_dirs,
                     std::chrono::milliseconds timeout) {
  if (!version_has_check(list.cni_version)) prev_result = {};
  std::optional<error> first;
  for (size_t i = list.plugins.size(); i-- > 0;) {
    auto done = run_plugin(command::del, list, i, pod, prev_result, plugin_dirs, timeout);
    if (!done && !first) first = std::move(done.error());
  }
  if (first) return tl::unexpected(std::move(*first));
  return {};
}

}  // namespace

bool is_netns_file(const std::string& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 &&
         st.f_type == static_cast<decltype(st.f_type)>(NSFS_MAGIC);
}

result<add_result> add(const network_list& list, const attachment& pod,
                       const std::vector<std::string>& plugin_dirs,
                       std::chrono::milliseconds timeout) {
  std::string prev;
  auto added = [&]() -> result<add_result> {
    for (size_t i = 0; i < list.plugins.size(); ++i) {
      auto out = run_plugin(command::add, list, i, pod, prev, plugin_dirs, timeout);
      if (!out) return tl::unexpected(std::move(out.error()));
      auto doc = nlohmann::json::parse(*out, nullptr, false);
      if (doc.is_discarded() || !doc.is_object())
        return fail(error_kind::internal,
                    fmt::format("plugin {}: ADD printed no result", type_of(list, i)));
      prev = std::move(*out);
    }
    auto ips = parse_pod_ips(prev, pod.netns_path);
    if (!ips) return tl::unexpected(std::move(ips.error()));
    return add_result{prev, std::move(*ips)};
  }();
  if (!added) {
    // Undo what the plugins that ran (and the one that failed) may have
    // made. Its errors are not the caller's concern: the ADD error is.
    (void)del_all(list, pod, prev, plugin_dirs, timeout);
    return tl::unexpected(std::move(added.error()).context(context_of(command::add, list)));
  }
  return added;
}

result<void> del(const network_list& list, const attachment& pod,
                 const std::string& prev_result_json, const std::vector<std::string>& plugin_dirs,
                 std::chrono::milliseconds timeout) {
  auto done = del_all(list, pod, prev_result_json, plugin_dirs, timeout);
  if (!done) return tl::unexpected(std::move(done.error()).context(context_of(command::del, list)));
  return {};
}

result<void> check(const network_list& list, const attachment& pod,
                   const std::string& prev_result_json, const std::vector<std::string>& plugin_dirs,
                   std::chrono::milliseconds timeout) {
  if (list.disable_check || !version_has_check(list.cni_version)) return {};
  if (prev_result_json.empty())
    return fail(error_kind::failed_precondition, fmt::format("{}: no ADD result to check against",
                                                             context_of(command::check, list)));
  for (size_t i = 0; i < list.plugins.size(); ++i) {
    auto done = run_plugin(command::check, list, i, pod, prev_result_json, plugin_dirs, timeout);
    if (!done)
      return tl::unexpected(std::move(done.error()).context(context_of(command::check, list)));
  }
  return {};
}

}  // namespace ringcri::net::cni
