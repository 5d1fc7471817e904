#pragma once
// Running one CNI plugin: its executable found in the plugin dirs, the
// CNI_* environment set, the network config on stdin, its result or error
// read from stdout. Blocking: the daemon calls this on its blocking pool,
// never on a reactor thread.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::net::cni {

enum class command { add, del, check, version };

// "ADD", "DEL", "CHECK", "VERSION": the value of CNI_COMMAND.
std::string_view to_string(command cmd);

inline constexpr std::chrono::milliseconds default_plugin_timeout{60'000};

struct invocation {
  command cmd = command::add;
  std::string type;                      // the plugin's executable name
  std::vector<std::string> plugin_dirs;  // searched in order; CNI_PATH
  std::string container_id;              // CNI_CONTAINERID
  std::string netns_path;                // CNI_NETNS (may be empty for DEL)
  std::string ifname;                    // CNI_IFNAME
  std::string args;                      // CNI_ARGS, "K=V;K=V"
  std::string stdin_json;                // the plugin's network config
  std::chrono::milliseconds timeout = default_plugin_timeout;
};

// Runs the plugin to its end and gives its stdout. The plugin gets only
// the CNI_* variables and the daemon's PATH, no other fd than its stdio,
// default signal dispositions and an empty signal mask, and its own
// process group, which is killed (SIGKILL) when `timeout` passes:
// DEADLINE_EXCEEDED. A plugin that exits non-zero: the error of
// plugin_failure (plugin_error.hpp), with the plugin's own message.
result<std::string> invoke_plugin(const invocation& inv);

}  // namespace ringcri::net::cni
