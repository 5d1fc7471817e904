#pragma once
// Where a plugin's executable is: its "type" looked up in the plugin dirs
// (CNI_PATH), the first dir that has it winning.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::net::cni {

// The executable file `type` in the first of `plugin_dirs` holding one.
// INVALID_ARGUMENT for a type that is not a plain file name; NOT_FOUND
// 'plugin "x" not found in /usr/lib/cni:/opt/cni/bin' otherwise.
result<std::filesystem::path> find_plugin(std::string_view type,
                                          const std::vector<std::string>& plugin_dirs);

// The dirs joined by ':', as CNI_PATH wants them.
std::string join_plugin_dirs(const std::vector<std::string>& plugin_dirs);

}  // namespace ringcri::net::cni
