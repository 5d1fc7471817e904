#pragma once
// SIGHUP: the config file read again and what a running daemon can take
// of it applied (config/reload.hpp); a file that does not load changes
// nothing.

#include "base/error.hpp"
#include "config/config.hpp"
#include "cri/context.hpp"

namespace ringcri::cri {

// `loaded`: the config as read again (file, then flags), or why it could
// not be. Logs what changed, what needs a restart, or why nothing did.
void apply_reload(context& ctx, const result<config::config>& loaded);

}  // namespace ringcri::cri
