#pragma once
// The ringcri binary's commands for people debugging a node, beside the
// daemon (no command) and the keeper (`ringcri keeper`):
//
//   ringcri config  [--config FILE] [daemon flags]   the effective config, and where each value
//   came from ringcri resolve IMAGE [--probe]                  the hosts a pull of IMAGE tries, and
//   its credentials ringcri check                                    the kernel features ringcri
//   uses, and what it does without them ringcri inspect ID-OR-PREFIX                     a pod's or
//   container's durable record, read beside the daemon
//
// Each reads the config as the daemon would (the same flags and file) and
// the node with the daemon's own code, and none needs the daemon: inspect
// reads the record store without its lock, so it works while the daemon
// runs. Output goes to stdout, errors to stderr. Exit status: 0, 1 when
// what was asked for is missing or broken (check: a required feature;
// inspect: no such id), 2 for a broken config or a bad argument.

#include <filesystem>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "config/to_toml.hpp"

namespace CLI {
class App;
}

namespace ringcri::cli {

// The daemon's flags as the command line gave them; empty: not given.
struct daemon_flags {
  std::string config_file;
  std::string root;
  std::string state;
  std::string socket;
  std::string log_level;
  std::optional<unsigned> cores;
};

// The commands as subcommands of the daemon's CLI11 app. The daemon's
// flags are the app's: they may come before or after a command's name.
class commands {
 public:
  explicit commands(CLI::App& app);

  // Whether the command line named a command.
  bool chosen() const;
  // Runs it; its exit status.
  int run(const daemon_flags& flags);

 private:
  CLI::App* config_;
  CLI::App* resolve_;
  CLI::App* check_;
  CLI::App* inspect_;
  std::string image_;
  bool probe_ = false;
  std::string id_;
};

// The config the daemon would run with: the defaults, then the config
// file (the one --config names, else /etc/ringcri/ringcri.toml when it
// exists), then the flags, with where each value came from.
struct effective_config {
  config::config cfg;
  config::key_origins origins;
  std::filesystem::path file;  // the file read; empty when none
};
result<effective_config> load_effective_config(const daemon_flags& flags);

int config_command(const effective_config& effective);
int resolve_command(const effective_config& effective, const std::string& image, bool probe);
int check_command(const effective_config& effective);
int inspect_command(const effective_config& effective, const std::string& id);

}  // namespace ringcri::cli
