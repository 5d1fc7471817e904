#include "net/native/tuning.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "net/native/json_member.hpp"
#include "net/native/pod_netns.hpp"
#include "net/native/sysctl.hpp"

namespace ringcri::net::native {

namespace {

using nlohmann::json;

tuning_choice exec_because(std::string reason) { return {std::nullopt, std::move(reason)}; }

// The name under /proc/sys the plugin writes for `key`: IFNAME replaced
// once, every dot a slash (so no "..": no way out), empty parts dropped
// as filepath.Join drops them; empty when it is not under /proc/sys/net.
std::string sysctl_name(std::string key, const std::string& ifname) {
  if (auto at = key.find("IFNAME"); at != std::string::npos) key.replace(at, 6, ifname);
  std::replace(key.begin(), key.end(), '.', '/');
  std::string name;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= key.size(); ++i) {
    if (i < key.size() && key[i] != '/') continue;
    if (i > start) name += (name.empty() ? "" : "/") + key.substr(start, i - start);
    start = i + 1;
  }
  if (name.rfind("net/", 0) != 0) return {};
  return name;
}

}  // namespace

tuning_choice choose_tuning(const json& plugin, const cni::attachment& pod) {
  for (const char* key : {"mac", "promisc", "mtu", "allmulti"})
    if (const json* v = member(plugin, key);
        v && !v->is_null() && *v != json("") && *v != json(false) && *v != json(0))
      return exec_because("link settings");
  if (const json* rc = member(plugin, "runtimeConfig"); rc && member(*rc, "mac"))
    return exec_because("link settings");
  if (const json* args = member(plugin, "args"); args && !args->is_null())
    return exec_because("\"args\"");
  for (const auto& [key, value] : pod.args)
    if (key == "MAC") return exec_because("a MAC in CNI_ARGS");
  tuning_config c;
  const json* sysctls = member(plugin, "sysctl");
  if (sysctls && !sysctls->is_null()) {
    if (!sysctls->is_object()) return exec_because("malformed \"sysctl\"");
    for (const auto& [key, value] : sysctls->items()) {
      if (!value.is_string()) return exec_because("malformed \"sysctl\"");
      std::string name = sysctl_name(key, pod.ifname);
      if (name.empty()) return exec_because(fmt::format("sysctl key \"{}\"", key));
      c.sysctls.emplace_back(std::move(name), value.get<std::string>());
    }
  }
  return {std::move(c), {}};
}

reactor::task<result<std::string>> tuning_add(const tuning_config& config,
                                              const cni::attachment& pod,
                                              const std::string& prev_result) {
  if (prev_result.empty())
    co_return fail(error_kind::invalid_argument, "Required prevResult missing");
  if (config.sysctls.empty()) co_return prev_result;
  auto netns = co_await open_netns(pod.netns_path);
  if (!netns) co_return tl::unexpected(std::move(netns.error()));
  std::vector<sysctl_write> writes;
  for (const auto& [name, value] : config.sysctls) writes.push_back(make_sysctl(name, value, true));
  auto written = co_await write_sysctls(netns->get(), std::move(writes));
  if (!written) co_return tl::unexpected(std::move(written.error()));
  co_return prev_result;
}

reactor::task<result<void>> tuning_check(const tuning_config& config, const cni::attachment& pod) {
  if (config.sysctls.empty()) co_return result<void>{};
  auto netns = co_await open_netns(pod.netns_path);
  if (!netns) co_return tl::unexpected(std::move(netns.error()));
  std::vector<std::string> names;
  for (const auto& [name, value] : config.sysctls) names.push_back(name);
  auto values = co_await read_sysctls(netns->get(), names);
  if (!values) co_return tl::unexpected(std::move(values.error()));
  for (std::size_t i = 0; i < names.size(); ++i)
    if ((*values)[i] != config.sysctls[i].second)
      co_return fail(error_kind::failed_precondition,
                     fmt::format("Error: Tuning configured value of /proc/sys/{} is {}, current "
                                 "value is {}",
                                 names[i], config.sysctls[i].second, (*values)[i]));
  co_return result<void>{};
}

}  // namespace ringcri::net::native
