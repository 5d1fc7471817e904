#pragma once
// ADD, DEL and CHECK of a network list for one pod: its plugins run in
// order (DEL in reverse), each given the one before's result. Blocking,
// like invoke_plugin: for the daemon's blocking pool.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "net/cni/attachment.hpp"
#include "net/cni/config.hpp"
#include "net/cni/plugin.hpp"
#include "net/cni/result_json.hpp"

namespace ringcri::net::cni {

struct add_result {
  std::string result_json;  // the last plugin's result: keep it for DEL and CHECK
  std::vector<pod_ip> ips;  // on the pod's own interface, IPv4 first
};

// Attaches the pod: ADD of every plugin in order. If one fails, the list
// is torn down with DEL (every plugin, reverse order, errors ignored) so
// that no interface or IP reservation is left, and the ADD error — the
// plugin's own message — is returned.
result<add_result> add(const network_list& list, const attachment& pod,
                       const std::vector<std::string>& plugin_dirs,
                       std::chrono::milliseconds timeout = default_plugin_timeout);

// Detaches the pod: DEL of every plugin in reverse order, each given
// `prev_result_json` (the ADD result, may be empty) when the list's
// version has it (0.4.0 and later). Every plugin runs even when one
// fails; the first error is returned. Idempotent. A netns path that is
// gone, or no longer a network namespace (its bind mount removed), is
// passed as an empty CNI_NETNS, which the plugins take as "the interface
// is gone with it" and only release what they hold on the host.
result<void> del(const network_list& list, const attachment& pod,
                 const std::string& prev_result_json, const std::vector<std::string>& plugin_dirs,
                 std::chrono::milliseconds timeout = default_plugin_timeout);

// Checks the pod's attachment: CHECK of every plugin in order with the
// ADD result, stopping at the first error (the plugin's message). Does
// nothing for lists before 0.4.0 or with disableCheck. FAILED_PRECONDITION
// without a previous result.
result<void> check(const network_list& list, const attachment& pod,
                   const std::string& prev_result_json, const std::vector<std::string>& plugin_dirs,
                   std::chrono::milliseconds timeout = default_plugin_timeout);

// One plugin of `list` for `pod`: plugin `index` run with `cmd`, given
// `prev_result` (may be empty), its stdout returned. For DEL, a netns path
// that is no longer a network namespace is passed empty, as del() does.
// The building block of a chain whose other plugins run in-process.
result<std::string> run_plugin(command cmd, const network_list& list, size_t index,
                               const attachment& pod, std::string_view prev_result,
                               const std::vector<std::string>& plugin_dirs,
                               std::chrono::milliseconds timeout = default_plugin_timeout);

// The "type" of plugin `index` of `list` (empty when it has none).
std::string plugin_type(const network_list& list, size_t index);

// A plugin that is no entry of a list, run for `pod` with the config it is
// given as it is: a meta plugin's delegate (flannel's bridge). Blocking.
result<std::string> run_delegate(command cmd, const std::string& type, std::string stdin_json,
                                 const attachment& pod,
                                 const std::vector<std::string>& plugin_dirs,
                                 std::chrono::milliseconds timeout);

// Whether `path` is a network namespace file (nsfs), as a pinned netns
// is while its bind mount is in place.
bool is_netns_file(const std::string& path);

}  // namespace ringcri::net::cni
