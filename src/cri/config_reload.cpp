#include "cri/config_reload.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/reload.hpp"

namespace ringcri::cri {

void apply_reload(context& ctx, const result<config::config>& loaded) {
  if (!loaded) {
    spdlog::error("msg=\"config not reloaded: the daemon keeps the config it has\" error=\"{}\"",
                  loaded.error().message());
    return;
  }
  const auto running = ctx.live.get();
  const auto restart = config::keys_needing_restart(*running, *loaded);
  const auto changed = config::keys_reloaded(*running, *loaded);
  auto next = config::reloadable_part(*running, *loaded);
  ctx.puller.set_settings({.config_path = next.registry.config_path,
                           .max_concurrent_downloads = next.registry.max_concurrent_downloads});
  spdlog::default_logger()->set_level(spdlog::level::from_str(next.log_level));
  ctx.live.set(std::move(next));
  spdlog::info("msg=\"config reloaded\" changed=\"{}\"", fmt::join(changed, ","));
  if (!restart.empty())
    spdlog::warn("msg=\"config keys changed that only a restart takes: the daemon keeps their old values\" "
                 "keys=\"{}\"",
                 fmt::join(restart, ","));
}

}  // namespace ringcri::cri
