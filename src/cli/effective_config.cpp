// The config a command works with: the daemon's, found the way main()
// finds it, with where each value came from.

#include <fmt/format.h>

#include <utility>

#include "cli/commands.hpp"

namespace ringcri::cli {

result<effective_config> load_effective_config(const daemon_flags& flags) {
  effective_config out;
  const std::filesystem::path file = flags.config_file.empty()
                                         ? std::filesystem::path(config::default_config_file)
                                         : std::filesystem::path(flags.config_file);
  std::error_code ec;
  if (!flags.config_file.empty() || std::filesystem::exists(file, ec)) {
    config::key_lines lines;
    auto loaded = config::load_file(file, {}, lines);
    if (!loaded) return tl::unexpected(std::move(loaded.error()));
    out.cfg = std::move(*loaded);
    out.file = file;
    for (const auto& [path, line] : lines)
      out.origins[path] = fmt::format("{}:{}", file.string(), line);
  }
  auto flag = [&](const std::string& value, const char* key, const char* name, auto apply) {
    if (value.empty()) return;
    apply(value);
    out.origins[key] = fmt::format("flag {}", name);
  };
  flag(flags.root, "root", "--root", [&](const std::string& v) { out.cfg.root_dir = v; });
  flag(flags.state, "state", "--state", [&](const std::string& v) { out.cfg.state_dir = v; });
  flag(flags.socket, "socket", "--socket", [&](const std::string& v) { out.cfg.socket = v; });
  flag(flags.log_level, "log_level", "--log-level",
       [&](const std::string& v) { out.cfg.log_level = v; });
  if (flags.cores) {
    out.cfg.cores = *flags.cores;
    out.origins["cores"] = "flag --cores";
  }
  if (auto ok = config::validate(out.cfg); !ok) return tl::unexpected(std::move(ok.error()));
  return out;
}

}  // namespace ringcri::cli
