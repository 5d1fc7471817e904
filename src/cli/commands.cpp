#include "cli/commands.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>

namespace ringcri::cli {

commands::commands(CLI::App& app) {
  app.require_subcommand(0, 1);
  config_ = app.add_subcommand("config",
                               "print the effective config as TOML (defaults, file, flags), each "
                               "value with where it came from");
  resolve_ = app.add_subcommand("resolve",
                                "show the hosts.toml, hosts and credentials a pull of IMAGE would "
                                "use (--probe: GET /v2/ on each)");
  resolve_->add_option("image", image_, "an image reference, as a pull names it")->required();
  resolve_->add_flag("--probe", probe_,
                     "ask each host for /v2/ (network), in the order a pull tries them");
  check_ = app.add_subcommand("check",
                              "list the kernel features ringcri uses, and what it does without "
                              "each; exit 1 if one it needs is missing");
  inspect_ = app.add_subcommand(
      "inspect",
      "print a pod's or container's durable record as JSON (read beside a running daemon)");
  inspect_->add_option("id", id_, "a pod or container id, or a prefix of one that is unique")
      ->required();
  // The daemon's flags (--config, --root...) are the app's: they may
  // follow the command's name.
  for (auto* sub : {config_, resolve_, check_, inspect_}) sub->fallthrough();
}

bool commands::chosen() const {
  return config_->parsed() || resolve_->parsed() || check_->parsed() || inspect_->parsed();
}

int commands::run(const daemon_flags& flags) {
  // Library code logs through spdlog: to stderr, so stdout holds only
  // what the command prints, and only what is worth a warning.
  auto logger = spdlog::stderr_logger_mt("ringcri");
  logger->set_level(flags.log_level.empty() ? spdlog::level::warn
                                            : spdlog::level::from_str(flags.log_level));
  spdlog::set_default_logger(logger);

  auto effective = load_effective_config(flags);
  if (!effective) {
    std::fprintf(stderr, "ringcri: %s\n", effective.error().message().c_str());
    return 2;
  }
  if (config_->parsed()) return config_command(*effective);
  if (resolve_->parsed()) return resolve_command(*effective, image_, probe_);
  if (check_->parsed()) return check_command(*effective);
  return inspect_command(*effective, id_);
}

}  // namespace ringcri::cli
