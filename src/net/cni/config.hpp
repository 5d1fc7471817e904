#pragma once
// The CNI network config: a network list (name, cniVersion, the plugins
// to run in order) read from the CNI conf dir. As containerd and libcni
// do, the first file by name (.conflist, .conf or .json) is the pod
// network; a .conf/.json holding one plugin becomes a one-plugin list.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::net::cni {

struct network_list {
  std::string name;
  std::string cni_version;
  bool disable_check = false;
  // Each plugin's own config object, as written (it has a "type").
  std::vector<nlohmann::json> plugins;
  // The file it came from, and its text as loaded.
  std::filesystem::path source;
  std::string raw_json;
};

// Parses one config file's text. `origin` names it in errors and decides
// nothing but this: a ".conflist" must hold a "plugins" list, while any
// other file may hold a single plugin config, which is wrapped. Errors
// are INVALID_ARGUMENT "CNI config <origin>: <problem>".
result<network_list> parse_network_list(std::string_view text, std::string_view origin);

// The pod network from `conf_dir`: the first .conflist/.conf/.json file
// by name, parsed. No dir, or no such file in it: nullopt.
result<std::optional<network_list>> load_default_network(const std::filesystem::path& conf_dir);

}  // namespace ringcri::net::cni
