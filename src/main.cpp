// ringcri: the daemon's entry point. Reads flags and config, starts the
// reactor threads, and stops them cleanly on SIGTERM or SIGINT.

#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>

#include "base/crash_point.hpp"
#include "cli/commands.hpp"
#include "base/sys/journal_stream.hpp"
#include "base/sys/oom_score_adj.hpp"
#include "config/config.hpp"
#include "cri/config_reload.hpp"
#include "cri/container_process.hpp"
#include "cri/context.hpp"
#include "cri/image_lookup.hpp"
#include "cri/intents.hpp"
#include "cri/keeper_link.hpp"
#include "cri/metrics/endpoint.hpp"
#include "cri/mount_point_layer.hpp"
#include "cri/paths.hpp"
#include "cri/pod_network.hpp"
#include "cri/reattach.hpp"
#include "cri/restore.hpp"
#include "cri/server.hpp"
#include "cri/streaming/server.hpp"
#include "exec/cgroups/favordynmods.hpp"
#include "exec/cgroups/hierarchy.hpp"
#include "exec/keeper/client.hpp"
#include "exec/sandbox/user_namespace_probe.hpp"
#include "image/layer_store.hpp"
#include "metrics/daemon_metrics.hpp"
#include "reactor/pool.hpp"
#include "version.hpp"

namespace {

using ringcri::config::config;

// logfmt: one event per line, key=value, for people and for grep. To the
// journal, the same fields without time and level are an entry's MESSAGE,
// the level its PRIORITY. log_target "auto" is settled here, once: the
// keeper the daemon starts follows what it chose.
void setup_logging(config& cfg) {
  if (cfg.log_target == "auto")
    cfg.log_target = ringcri::sys::stderr_is_journal_stream() ? "journald" : "stderr";
  std::shared_ptr<spdlog::logger> logger;
  if (cfg.log_target == "journald") {
    logger = spdlog::systemd_logger_mt("ringcri", "ringcri");
  } else {
    logger = spdlog::stderr_logger_mt("ringcri");
    logger->set_pattern("time=%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(cfg.log_level));
  spdlog::set_default_logger(logger);
}

// <root> and <root>/containers are the daemon's alone, whatever mode they
// had: a host user who can reach a container's writable layer or an image
// layer can run the setuid binaries in it (the CVE-2021-41091 class).
bool make_private(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || ::chmod(dir.c_str(), 0700) != 0) {
    spdlog::critical("msg=\"cannot make a private directory\" path={} error=\"{}\"", dir.string(),
                     ec ? ec.message() : std::strerror(errno));
    return false;
  }
  return true;
}

// Container set-up waits for no RCU grace period (favordynmods.hpp).
void favor_dynamic_cgroup_changes(const config& cfg, const ringcri::exec::cgroups::hierarchy& cgroups) {
  const auto* unified = cgroups.unified();
  if (!cfg.cgroup_favordynmods) {
    spdlog::info("msg=\"cgroup favordynmods left as the node has it (cgroup_favordynmods = false)\"");
    return;
  }
  if (unified == nullptr) {
    spdlog::info("msg=\"cgroup favordynmods not set: the node mounts no cgroup2 hierarchy\"");
    return;
  }
  auto done = ringcri::exec::cgroups::favor_dynamic_changes(*unified);
  if (!done)
    spdlog::warn("msg=\"cgroup favordynmods not set: moving a process into a cgroup waits for an RCU grace "
                 "period\" error=\"{}\"",
                 done.error().message());
  else if (*done == ringcri::exec::cgroups::favordynmods_outcome::switched_on)
    spdlog::info("msg=\"cgroup favordynmods switched on\" mount={}", unified->mount_point);
}

int serve(const config& cfg, const std::function<ringcri::result<config>()>& reload_config) {
  // Every thread inherits this mask; the main thread takes the signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Socket activation (etc/systemd/ringcri.socket): the CRI socket systemd
  // made and listens on, taken before any child could inherit it
  // (sd_listen_fds sets FD_CLOEXEC and drops LISTEN_FDS).
  ringcri::unique_fd activated;
  bool activated_by_systemd = false;
  std::filesystem::path socket_path = cfg.socket_path();
  if (int n = sd_listen_fds(1); n != 0) {
    sockaddr_un addr{};
    socklen_t len = sizeof addr;
    if (n != 1 || sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, nullptr, 0) <= 0 ||
        ::getsockname(SD_LISTEN_FDS_START, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        addr.sun_path[0] == '\0') {
      spdlog::critical("msg=\"socket activation passes one listening unix stream socket with a path, not this\" "
                       "listen_fds={}",
                       n);
      return 1;
    }
    activated = ringcri::unique_fd(SD_LISTEN_FDS_START);
    activated_by_systemd = true;
    socket_path = addr.sun_path;
  }
  if (!make_private(cfg.root_dir) || !make_private(cfg.root_dir / "containers")) return 1;
  auto store = ringcri::cri::record_store::open(cfg.root_dir / "meta", ringcri::cri::record_kinds());
  if (!store) {
    spdlog::critical("msg=\"cannot open the record store\" error=\"{}\"", store.error().message());
    return 1;
  }
  auto opened = ringcri::image::open_layer_store(
      cfg.root_dir, *ringcri::image::parse_layer_store_kind(cfg.image.layer_store));
  if (!opened) {
    spdlog::critical("msg=\"cannot open the layer store\" error=\"{}\"", opened.error().message());
    return 1;
  }
  spdlog::info("msg=\"layer store\" kind={} why=\"{}\"", ringcri::image::to_string(opened->kind),
               opened->why.empty() ? "image.layer_store says so" : opened->why);
  auto layers = std::move(opened->store);
  ringcri::image::pull_options pull_options;
  pull_options.limits.max_bytes = cfg.image.max_layer_bytes;
  pull_options.limits.min_free_bytes = cfg.image.min_free_bytes;
  pull_options.progress_timeout = std::chrono::seconds(cfg.image.pull_progress_timeout_seconds);
  ringcri::image::puller puller({.config_path = cfg.registry.config_path,
                                 .max_concurrent_downloads = cfg.registry.max_concurrent_downloads},
                                *layers, pull_options);
  ringcri::cri::runtime_state state;
  ringcri::cri::image_index images;
  ringcri::reactor::reactor_pool pool({.threads = cfg.cores, .pin = true, .ring = {}});
  ringcri::cri::context ctx(cfg, pool, state, **store, images, *layers, puller);
  if (auto ok = ringcri::cri::restore(ctx); !ok) {
    spdlog::critical("msg=\"cannot restore state\" error=\"{}\"", ok.error().message());
    return 1;
  }
  auto cgroups = ringcri::exec::cgroups::hierarchy::detect();
  if (!cgroups) {
    spdlog::critical("msg=\"cannot find the cgroup hierarchies\" error=\"{}\"", cgroups.error().message());
    return 1;
  }
  ctx.cgroups = &*cgroups;
  favor_dynamic_cgroup_changes(cfg, *cgroups);
  // Once, before serving: Status reports it and RunPodSandbox relies on it.
  if (auto userns = ringcri::exec::sandbox::probe_user_namespaces(cfg.root_dir); userns.supported)
    ctx.user_namespaces = true;
  else
    spdlog::warn(
        "msg=\"pods cannot have user namespaces on this node (hostUsers: false)\" reason=\"{}\"",
        userns.reason);
  if (auto made = ringcri::cri::make_mount_point_layer(ringcri::cri::mount_point_layer_of(cfg)); made)
    ctx.mount_point_layer = ringcri::cri::mount_point_layer_of(cfg);
  else
    spdlog::warn("msg=\"containers make their own mount points\" error=\"{}\"", made.error().message());
  if (const auto* devices = cgroups->mount_of("devices"); devices == nullptr || devices->unified)
    spdlog::info("msg=\"no v1 devices controller: containers' device rules are a BPF device program on their "
                 "cgroup2 directory\"");

  // The keeper holds every container; it may already run (a restart).
  ringcri::cri::keeper_link keeper(pool, 0);
  ringcri::exec::keeper::options keeper_options;
  keeper_options.state_dir = cfg.state_dir;
  // ringcri-keeper beside this binary when installed (a fifth of the
  // memory), else this binary in keeper mode.
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  std::error_code ec;
  keeper_options.binary = std::filesystem::exists(self.parent_path() / "ringcri-keeper", ec)
                              ? self.parent_path() / "ringcri-keeper"
                              : self;
  keeper_options.log_level = cfg.log_level;
  keeper_options.log_to = cfg.log_target == "journald" ? ringcri::exec::keeper::log_target::journald
                                                       : ringcri::exec::keeper::log_target::file;
  keeper_options.log_max_bytes = cfg.keeper_log_max_bytes;
  // A keeper that died took what it held with it: what it no longer
  // holds is reconciled as at a restart (reattach.cpp: KeeperLost).
  auto on_reconnect = [&ctx, &pool] {
    ringcri::metrics::keeper_restarts().with({}).add();
    pool.spawn(0, [&ctx]() -> ringcri::reactor::task<void> {
      if (auto ok = co_await ringcri::cri::reattach(ctx); !ok)
        spdlog::error("msg=\"cannot reconcile with the keeper\" error=\"{}\"", ok.error().message());
    });
  };
  if (auto ok = keeper.connect(keeper_options, [&ctx](const auto& exit) { ringcri::cri::on_exit_reported(ctx, exit); },
                               on_reconnect);
      !ok) {
    spdlog::critical("msg=\"cannot reach the keeper\" error=\"{}\"", ok.error().message());
    return 1;
  }
  ctx.keeper = &keeper;
  if (auto ok = pool.wait_for<ringcri::result<void>>(0, [&ctx] { return ringcri::cri::reattach(ctx); }); !ok) {
    spdlog::critical("msg=\"cannot reattach containers\" error=\"{}\"", ok.error().message());
    return 1;
  }

  // Half-made pods and containers of a daemon killed mid-RPC: undone
  // before anything is served.
  (void)pool.wait_for<ringcri::result<void>>(0, [&ctx]() -> ringcri::reactor::task<ringcri::result<void>> {
    co_await ringcri::cri::sweep_intents(ctx);
    co_await ringcri::cri::sweep_unused_layers(ctx);
    co_return ringcri::result<void>{};
  });

  pool.spawn(0, [&ctx] { return ringcri::cri::check_pod_networks(ctx); });

  spdlog::info("msg=\"started\" version={} pid={} reactors={} root={} state={} socket={}",
               ringcri::version, getpid(), pool.size(), cfg.root_dir.string(),
               cfg.state_dir.string(), socket_path.string());

  ringcri::cri::streaming::server streaming(ctx);
  if (auto ok = streaming.listen(cfg.stream_server_address, static_cast<std::uint16_t>(cfg.stream_server_port)); !ok) {
    spdlog::critical("msg=\"cannot start the streaming server\" error=\"{}\"", ok.error().message());
    return 1;
  }
  streaming.start(0);
  ctx.streaming = &streaming;
  spdlog::info("msg=\"streaming server listening\" url={}", streaming.base_url());

  ringcri::metrics::register_daemon_metrics();
  ringcri::cri::metrics_endpoint metrics(ctx);
  // Start-up failed after the reactors took work: they stop before what
  // their tasks use (the servers, the keeper link) goes.
  auto give_up = [&] {
    metrics.stop();
    streaming.stop();
    keeper.disconnect();
    pool.stop();
    pool.join();
    return 1;
  };
  if (!cfg.metrics_address.empty()) {
    if (auto ok = metrics.listen(cfg.metrics_address); !ok) {
      spdlog::critical("msg=\"cannot start the metrics endpoint\" error=\"{}\"", ok.error().message());
      return give_up();
    }
    metrics.start(0);
    spdlog::info("msg=\"metrics endpoint listening\" url={}", metrics.url());
  }

  auto server = activated ? ringcri::cri::server::start_activated(ctx, socket_path, std::move(activated))
                          : ringcri::cri::server::start(ctx, socket_path);
  if (!server) {
    spdlog::critical("msg=\"cannot serve the CRI\" error=\"{}\"", server.error().message());
    return give_up();
  }
  spdlog::info("msg=\"serving\" socket={} activated={}", socket_path.string(), activated_by_systemd);
  // Under systemd (Type=notify, etc/systemd/ringcri.service): started once
  // the socket answers. Without NOTIFY_SOCKET, nothing.
  sd_notifyf(0, "READY=1\nSTATUS=serving the CRI on %s", socket_path.c_str());

  int sig = 0;
  // SIGHUP: the config again (cri/config_reload.hpp); SIGTERM, SIGINT: stop.
  for (;;) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    sd_notify(0, "RELOADING=1\nSTATUS=reloading the config");
    ringcri::cri::apply_reload(ctx, reload_config());
    sd_notifyf(0, "READY=1\nSTATUS=serving the CRI on %s", socket_path.c_str());
  }
  spdlog::info("msg=\"stopping\" signal={}", strsignal(sig));
  sd_notify(0, "STOPPING=1\nSTATUS=stopping; the keeper and its containers keep running");
  // Calls in flight get a grace to finish (they need the reactors), open
  // exec, attach and port-forward sessions end (an exec is killed; they
  // need the keeper until they have). Then the keeper link closes, which
  // ends any call still waiting on the keeper (an ExecSync of a long
  // command), and only then gRPC stops: it waits for every call to answer.
  ctx.events.end_all();
  (*server)->wait_for_calls(std::chrono::seconds(5));
  metrics.stop();
  streaming.stop();
  streaming.wait_idle(std::chrono::seconds(5));
  spdlog::debug("msg=\"streaming server stopped\"");
  keeper.disconnect();  // the keeper and the containers keep running
  spdlog::debug("msg=\"keeper link closed\"");
  (*server)->shutdown();
  server->reset();
  spdlog::debug("msg=\"CRI server stopped\"");
  pool.stop();
  pool.join();
  if (auto closed = (*store)->checkpoint(); !closed)
    spdlog::warn("msg=\"record journal not checkpointed (it is applied at the next start)\" error=\"{}\"",
                 closed.error().message());
  spdlog::info("msg=\"stopped\"");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // The same binary is the keeper: one small process per node holding
  // every container (see exec/keeper/).
  if (argc > 1 && std::string_view(argv[1]) == "keeper") return ringcri::exec::keeper::keeper_main(argc - 1, argv + 1);

  std::string_view crash_error;
  if (!ringcri::arm_crash_point_from_environment(crash_error)) {
    std::fprintf(stderr, "ringcri: %.*s\n", static_cast<int>(crash_error.size()), crash_error.data());
    return 2;
  }

  CLI::App app{"ringcri: a Kubernetes container runtime (CRI) on io_uring"};
  app.set_version_flag("--version", std::string(ringcri::version));
  bool list_crash_points = false;
  app.add_flag("--list-crash-points", list_crash_points,
               "print the named crash points (RINGCRI_CRASH_AT=<name>[:<nth>]) and exit");

  std::string config_file;
  std::string root, state, socket, log_level;
  unsigned cores = 0;
  app.add_option("--config", config_file,
                 std::string("TOML config file (default ") + ringcri::config::default_config_file +
                     ", used when present)");
  app.add_option("--root", root, "root dir: images, layers, metadata (default /var/lib/ringcri)");
  app.add_option("--state", state, "state dir: socket, runtime state (default /run/ringcri)");
  app.add_option("--socket", socket, "CRI socket path (default <state>/ringcri.sock)");
  auto* cores_opt = app.add_option("--cores", cores, "reactor threads (default: every core)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  // config, resolve, check, inspect (src/cli/); with none, the daemon.
  ringcri::cli::commands commands(app);
  CLI11_PARSE(app, argc, argv);

  if (list_crash_points) {
    if (!ringcri::crash_points_built())
      std::fprintf(stderr, "ringcri: this build has no crash points (-Dcrash_points=false)\n");
    for (auto name : ringcri::crash_point_names)
      std::printf("%.*s\n", static_cast<int>(name.size()), name.data());
    return 0;
  }
  if (commands.chosen())
    return commands.run({.config_file = config_file,
                         .root = root,
                         .state = state,
                         .socket = socket,
                         .log_level = log_level,
                         .cores = *cores_opt ? std::optional<unsigned>(cores) : std::nullopt});

  // The config: embedded defaults, the file, the flags. Read again on
  // SIGHUP, the same way.
  const bool cores_given = cores_opt->count() > 0;
  auto load_config = [=]() -> ringcri::result<config> {
    config cfg;
    std::filesystem::path file = config_file.empty() ? ringcri::config::default_config_file : config_file;
    if (!config_file.empty() || std::filesystem::exists(file)) {
      ringcri::config::key_lines lines;  // errors name the line
      auto loaded = ringcri::config::load_file(file, {}, lines);
      if (!loaded) return tl::unexpected(loaded.error());
      cfg = *loaded;
    }
    if (!root.empty()) cfg.root_dir = root;
    if (!state.empty()) cfg.state_dir = state;
    if (!socket.empty()) cfg.socket = socket;
    if (cores_given) cfg.cores = cores;
    if (!log_level.empty()) cfg.log_level = log_level;
    if (auto ok = ringcri::config::validate(cfg); !ok) return tl::unexpected(ok.error());
    return cfg;
  };
  auto loaded = load_config();
  if (!loaded) {
    std::fprintf(stderr, "ringcri: %s\n", loaded.error().message().c_str());
    return 2;
  }
  config cfg = *loaded;

  setup_logging(cfg);
  // A reload compares like with like: log_target "auto" as settled now.
  auto reload_config = [load_config, configured_target = loaded->log_target, settled = cfg.log_target] {
    auto again = load_config();
    if (again && again->log_target == configured_target) again->log_target = settled;
    return again;
  };
  // The OOM killer takes a container before the daemon, where this node
  // lets us say so.
  if (auto r = ringcri::sys::set_oom_score_adj(-999); !r)
    spdlog::warn("msg=\"cannot set oom_score_adj\" error=\"{}\"", r.error().message());
  try {
    return serve(cfg, reload_config);
  } catch (const std::exception& e) {
    spdlog::critical("msg=\"cannot start\" error=\"{}\"", e.what());
    return 1;
  }
}
