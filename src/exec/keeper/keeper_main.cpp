// `ringcri keeper --state <dir> [--log-level L] [--log-target T]
// [--log-max-bytes N]`: the keeper process. One per state dir (an flock on
// <state>/keeper.lock, which also holds its pid), subreaper of every
// container, serving <state>/keeper.sock until it holds nothing and nobody
// is connected.

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/crash_point.hpp"
#include "base/error.hpp"
#include "base/sys/oom_score_adj.hpp"
#include "base/unique_fd.hpp"
#include "exec/keeper/client.hpp"
#include "exec/keeper/orphan_reaper.hpp"
#include "exec/keeper/rotating_log.hpp"
#include "exec/keeper/server.hpp"
#include "exec/keeper/spawner.hpp"
#include "exec/spawn/mount_base.hpp"
#include "reactor/pool.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::exec::keeper {

namespace {

namespace fs = std::filesystem;

struct keeper_args {
  fs::path state_dir;
  std::string log_level = "info";
  // "stderr" (as started: a keeper run by hand), "file" (<state>/keeper.log,
  // rotated) or "journald"; the daemon passes file or journald.
  std::string log_target = "stderr";
  std::uint64_t log_max_bytes = std::uint64_t{10} << 20;
};

result<keeper_args> parse_args(int argc, char** argv) {
  keeper_args a;
  int i = 1;
  if (i < argc && std::string_view(argv[i]) == "keeper") ++i;
  for (; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      if (arg == name && i + 1 < argc) return argv[++i];
      if (arg.size() > name.size() + 1 && arg.substr(0, name.size()) == name &&
          arg[name.size()] == '=') {
        return argv[i] + name.size() + 1;
      }
      return nullptr;
    };
    if (const char* v = value("--state"))
      a.state_dir = v;
    else if (const char* v = value("--log-level"))
      a.log_level = v;
    else if (const char* v = value("--log-target"))
      a.log_target = v;
    else if (const char* v = value("--log-max-bytes")) {
      std::string_view n(v);
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), a.log_max_bytes);
      if (ec != std::errc() || end != n.data() + n.size() || a.log_max_bytes == 0)
        return fail(error_kind::invalid_argument,
                    fmt::format("--log-max-bytes {} is not a number of bytes above 0", n));
    } else
      return fail(error_kind::invalid_argument, fmt::format("unknown argument {}", arg));
  }
  if (a.state_dir.empty()) return fail(error_kind::invalid_argument, "--state is required");
  if (a.log_target != "stderr" && a.log_target != "file" && a.log_target != "journald")
    return fail(error_kind::invalid_argument,
                fmt::format("--log-target {} is not one of stderr, file, journald", a.log_target));
  return a;
}

// logfmt, as the daemon's log.
constexpr const char* log_pattern = "time=%Y-%m-%dT%H:%M:%S.%fZ level=%l component=keeper %v";

void setup_logging(const std::string& level) {
  auto logger = spdlog::get("ringcri");
  if (!logger) logger = spdlog::stderr_logger_mt("ringcri");
  logger->set_pattern(log_pattern, spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// From stderr to the log target, once this keeper holds the lock: only
// the keeper that serves the state dir writes and rotates keeper.log (one
// started beside it says why it exits on stderr, which is keeper.log too
// when the daemon started it). SIGHUP reopens keeper.log, and no longer
// ends the keeper whatever the target.
result<void> switch_log_target(const keeper_args& a) {
  std::shared_ptr<rotating_log_sink> file;
  spdlog::sink_ptr sink;
  if (a.log_target == "file") {
    auto opened = rotating_log_sink::open({.path = a.state_dir / "keeper.log",
                                           .max_bytes = a.log_max_bytes,
                                           .keep = 3,
                                           .as_stdio = true});
    if (!opened) return tl::unexpected(std::move(opened.error()).context("open the keeper's log"));
    file = *opened;
    sink = file;
  } else if (a.log_target == "journald") {
    // MESSAGE is the logfmt fields without time and level: the entry has
    // both (PRIORITY from the level).
    sink = std::make_shared<spdlog::sinks::systemd_sink_mt>("ringcri-keeper");
  }
  if (auto ok = reopen_on_sighup(file); !ok) return ok;
  if (!sink) return {};
  auto logger = std::make_shared<spdlog::logger>("ringcri", std::move(sink));
  logger->set_pattern(log_pattern, spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(a.log_level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return {};
}

// Takes <state>/keeper.lock and writes our pid into it. An empty result: another keeper holds it.
result<std::optional<unique_fd>> take_lock(const fs::path& state_dir) {
  fs::path path = state_dir / "keeper.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail_errno(errno, fmt::format("open {}", path.string()));
  unique_fd lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return std::optional<unique_fd>{};
    return fail_errno(errno, fmt::format("lock {}", path.string()));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    return fail_errno(errno, fmt::format("write the pid into {}", path.string()));
  }
  return std::optional<unique_fd>(std::move(lock));
}

result<unique_fd> listen_on(const fs::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof addr.sun_path) {
    return fail(error_kind::invalid_argument,
                fmt::format("socket path {} is too long", path.string()));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.native().size());
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail_errno(errno, "create the keeper socket");
  unique_fd sock(fd);
  // We hold the lock: a socket file left here is a dead keeper's.
  ::unlink(path.c_str());
  mode_t old = ::umask(0177);  // 0600 from the start, no window
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int bind_errno = errno;
  ::umask(old);
  if (rc != 0) return fail_errno(bind_errno, fmt::format("bind {}", path.string()));
  if (::listen(fd, 128) != 0) return fail_errno(errno, fmt::format("listen on {}", path.string()));
  return sock;
}

}  // namespace

int keeper_main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args) {
    std::fprintf(stderr,
                 "ringcri keeper: %s\nusage: ringcri keeper --state <dir> [--log-level L] "
                 "[--log-target stderr|file|journald] [--log-max-bytes N]\n",
                 args.error().message().c_str());
    return 2;
  }
  setup_logging(args->log_level);
  std::string_view crash_error;
  if (!arm_crash_point_from_environment(crash_error)) {
    spdlog::critical("msg=\"{}\"", crash_error);
    return 2;
  }

  std::error_code ec;
  fs::create_directories(args->state_dir, ec);
  if (ec) {
    spdlog::critical("msg=\"cannot create the state dir\" path={} error=\"{}\"",
                     args->state_dir.string(), ec.message());
    return 1;
  }
  auto lock = take_lock(args->state_dir);
  if (!lock) {
    spdlog::critical("msg=\"cannot take the keeper lock\" error=\"{}\"", lock.error().message());
    return 1;
  }
  if (!*lock) {
    spdlog::info("msg=\"another keeper serves this state dir, exiting\" state={}",
                 args->state_dir.string());
    return 0;
  }
  if (auto ok = switch_log_target(*args); !ok) {
    spdlog::critical("msg=\"cannot start logging to {}\" error=\"{}\"", args->log_target,
                     ok.error().message());
    return 1;
  }

  // Nothing in a pod may ptrace or read the memory of the keeper, nor of
  // the children it forks (they start with its dumpable flag); the OOM
  // killer takes a container before it, where this node lets us say so.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (auto r = sys::set_oom_score_adj(-999); !r)
    spdlog::warn("msg=\"cannot set oom_score_adj\" error=\"{}\"", r.error().message());
  // The root of every pod's init: an empty directory it mounts an empty
  // tmpfs on, in a mount namespace of its own.
  fs::path empty_dir = args->state_dir / "empty";
  if (::mkdir(empty_dir.c_str(), 0555) != 0 && errno != EEXIST) {
    spdlog::critical("msg=\"cannot create the empty directory\" path={} error=\"{}\"",
                     empty_dir.string(), std::strerror(errno));
    return 1;
  }

  // Containers are cloned from a copy of the node's mount namespace
  // without the mounts that hold pods' namespaces (mount_base.hpp); where
  // it cannot be made, from the keeper's own, which only costs time.
  unique_fd mount_base;
  if (auto base = make_mount_base())
    mount_base = std::move(*base);
  else
    spdlog::warn("msg=\"containers are cloned from the host's mount namespace\" error=\"{}\"",
                 base.error().message());

  // Containers, execs and pod inits are cloned by spawners forked now,
  // while the keeper is small and has one thread (spawner.hpp); without
  // them, by the keeper itself.
  const std::size_t spawner_count = std::min<std::size_t>(reactor::allowed_cores().size(), 4);
  std::unique_ptr<spawners> spawner;
  if (auto s = spawners::start({.mount_base = mount_base.get(), .empty_dir = empty_dir.string(),
                                .count = spawner_count}))
    spawner = std::move(*s);
  else
    spdlog::warn("msg=\"the keeper clones containers itself\" error=\"{}\"", s.error().message());

  // Orphans below any container are ours to reap, not init's.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    spdlog::critical("msg=\"cannot become a subreaper\" error=\"{}\"", std::strerror(errno));
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  auto sigchld = install_sigchld_pipe();
  if (!sigchld) {
    spdlog::critical("msg=\"cannot watch SIGCHLD\" error=\"{}\"", sigchld.error().message());
    return 1;
  }

  fs::path socket_path = args->state_dir / "keeper.sock";
  auto listener = listen_on(socket_path);
  if (!listener) {
    spdlog::critical("msg=\"cannot listen\" error=\"{}\"", listener.error().message());
    return 1;
  }
  spdlog::info("msg=\"keeper started\" pid={} socket={}", ::getpid(), socket_path.string());

  try {
    reactor::reactor r;
    server s(server_options{.socket_path = socket_path,
                            .empty_dir = empty_dir,
                            .mount_base = mount_base.get(),
                            .spawner = spawner.get()},
             std::move(*listener), std::move(*sigchld));
    r.block_on(s.run());
  } catch (const std::exception& e) {
    spdlog::critical("msg=\"keeper failed\" error=\"{}\"", e.what());
    ::unlink(socket_path.c_str());
    return 1;
  }
  spdlog::info("msg=\"keeper exiting\"");
  return 0;
}

}  // namespace ringcri::exec::keeper
