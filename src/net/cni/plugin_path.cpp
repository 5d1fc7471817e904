// Finding a plugin's executable (see plugin_path.hpp).

#include "net/cni/plugin_path.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ringcri::net::cni {

std::string join_plugin_dirs(const std::vector<std::string>& plugin_dirs) {
  std::string joined;
  for (const auto& dir : plugin_dirs) {
    if (dir.empty()) continue;
    if (!joined.empty()) joined += ':';
    joined += dir;
  }
  return joined;
}

result<std::filesystem::path> find_plugin(std::string_view type,
                                          const std::vector<std::string>& plugin_dirs) {
  if (type.empty() || type == "." || type == ".." || type.find('/') != std::string_view::npos ||
      type.find('\0') != std::string_view::npos)
    return fail(error_kind::invalid_argument,
                fmt::format("plugin type \"{}\" is not a file name", type));
  for (const auto& dir : plugin_dirs) {
    if (dir.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path(dir) / type;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return fail(error_kind::not_found,
              fmt::format("plugin \"{}\" not found in {}", type, join_plugin_dirs(plugin_dirs)));
}

}  // namespace ringcri::net::cni
