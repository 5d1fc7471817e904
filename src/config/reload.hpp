#pragma once
// What a reload (SIGHUP) of a running daemon's config can change. Taken at
// once, for the calls that start after it: registry credentials
// ([registry.auths]), the hosts.toml directory and download parallelism
// ([registry]), the CNI network and plugins ([cni]) and log_level. Every
// other key is read once at start; a reload that changes one says so and
// the daemon goes on with the value it started with.

#include <string>
#include <vector>

#include "config/config.hpp"

namespace ringcri::config {

// The keys whose value differs between `running` and `loaded` and that
// only a restart takes, as the file names them ("root", "image.layer_store").
std::vector<std::string> keys_needing_restart(const config& running, const config& loaded);

// The keys a reload takes that differ between the two.
std::vector<std::string> keys_reloaded(const config& running, const config& loaded);

// `loaded`, with every key that needs a restart set back to `running`'s:
// what the daemon runs with after the reload.
config reloadable_part(const config& running, const config& loaded);

}  // namespace ringcri::config
