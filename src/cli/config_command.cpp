// ringcri config: the effective config as a TOML file the daemon would
// take, each value with where it came from.

#include <cstdio>
#include <string>

#include "cli/commands.hpp"

namespace ringcri::cli {

int config_command(const effective_config& effective) {
  const std::string file =
      effective.file.empty()
          ? std::string("no file (") + config::default_config_file + " does not exist)"
          : effective.file.string();
  std::printf("# ringcri's effective config: the defaults, then %s, then flags.\n", file.c_str());
  std::fputs(config::to_toml(effective.cfg, effective.origins).c_str(), stdout);
  return 0;
}

}  // namespace ringcri::cli
