#pragma once
// The daemon's configuration: embedded defaults, then the TOML file, then
// command-line flags, each overriding the one before.

#include <filesystem>
#include <string>

#include "base/error.hpp"

namespace ringcri::config {

struct config {
  std::filesystem::path root_dir = "/var/lib/ringcri";  // images, layers, durable metadata
  std::filesystem::path state_dir = "/run/ringcri";     // socket, namespace mounts
  std::filesystem::path socket;                          // default: <state_dir>/ringcri.sock
  unsigned cores = 0;                                    // reactor threads; 0: every core
  std::string log_level = "info";
  std::string cgroup_driver = "cgroupfs";                // cgroupfs or systemd

  std::filesystem::path socket_path() const {
    return socket.empty() ? state_dir / "ringcri.sock" : socket;
  }
};

inline constexpr const char* default_config_file = "/etc/ringcri/ringcri.toml";

// Reads `file` over `base`. Unknown keys and wrong types are errors naming
// the file and the key.
result<config> load_file(const std::filesystem::path& file, config base = {});

// Parses TOML text (for tests); `origin` names it in errors.
result<config> parse(std::string_view toml, const std::string& origin, config base = {});

// Checks values that no type can: log level names, absolute paths.
result<void> validate(const config& c);

}  // namespace ringcri::config
