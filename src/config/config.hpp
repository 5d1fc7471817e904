#pragma once
// The daemon's configuration: embedded defaults, then the TOML file, then
// command-line flags, each overriding the one before.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::config {

// Credentials for one registry, as the file gives them ([registry.auths."<host>"]);
// the same fields as CRI's AuthConfig. `auth` is base64("user:password"),
// decoded where it is used (image::credentials_from).
struct registry_auth {
  std::string username;
  std::string password;
  std::string auth;
  std::string identity_token;

  friend bool operator==(const registry_auth&, const registry_auth&) = default;
};

// [registry]
struct registry_config {
  std::filesystem::path config_path = "/etc/ringcri/certs.d";  // <host>/hosts.toml, as containerd's
  unsigned max_concurrent_downloads = 6;                       // layer fetches per pull, 1..64
  // Keyed by registry host as in an image reference ("docker.io",
  // "r.io:5000"). A key written as a URL ("https://index.docker.io/v1/")
  // is reduced to its host, and index.docker.io / registry-1.docker.io to
  // docker.io, so keys copied from a Docker config.json match.
  std::map<std::string, registry_auth> auths;
};

// [image]: what a pull may take and how long it may stall.
struct image_pull_config {
  // A layer whose uncompressed tar passes this fails its pull; 0: no limit.
  std::uint64_t max_layer_bytes = std::uint64_t{16} << 30;
  // A layer fails its pull when extracting it would leave the filesystem
  // of the root dir with less available than this; 0: not checked.
  std::uint64_t min_free_bytes = std::uint64_t{512} << 20;
  // A registry transfer that receives nothing for this long is given up,
  // as kubelet's --image-pull-progress-deadline; 0: never. In the file:
  // seconds, or a duration string ("90s", "5m", "1m30s", "1h").
  std::uint32_t pull_progress_timeout_seconds = 60;
  // Where layers are kept: "erofs" (an EROFS image file per layer, mounted
  // from the file: Linux 6.12+), "dir" (a directory per layer) or "auto"
  // (erofs where the kernel can, else dir).
  std::string layer_store = "auto";
};

// Pod networking: the CNI network list is the first file by name in
// conf_dir (.conflist, .conf, .json); plugins are looked up in plugin_dirs
// in order.
struct cni_config {
  std::filesystem::path conf_dir = "/etc/cni/net.d";
  std::vector<std::filesystem::path> plugin_dirs = {"/usr/lib/cni", "/opt/cni/bin"};
  // "auto": the plugins the daemon implements (bridge with host-local,
  // loopback) run in-process where their config allows; "off": every
  // plugin is exec'd.
  bool native = true;
};

// [runtimes."<name>"]: a runtime handler (a RuntimeClass's `handler`),
// what a pod gets when RunPodSandbox names it. Every key is optional and
// falls back to the default handler's behaviour. The default handler is
// "ringcri" (and "" selects it); a table of that name sets its defaults.
struct runtime_handler_config {
  // The seccomp profile of a container whose request names none (neither
  // `seccomp` nor the old `seccomp_profile_path`), as containerd's
  // `unset_seccomp_profile`: "" or "unconfined" (no filter, the CRI's
  // default), or "runtime/default".
  std::string seccomp_profile;

  friend bool operator==(const runtime_handler_config&, const runtime_handler_config&) = default;
};

inline constexpr const char* default_runtime_handler = "ringcri";

struct config {
  std::filesystem::path root_dir = "/var/lib/ringcri";  // images, layers, durable metadata
  std::filesystem::path state_dir = "/run/ringcri";     // socket, namespace mounts
  std::filesystem::path socket;                          // default: <state_dir>/ringcri.sock
  unsigned cores = 0;                                    // reactor threads; 0: every core
  std::string log_level = "info";
  // Where the daemon logs: "stderr" (logfmt lines), "journald" (the
  // systemd journal's native protocol, SYSLOG_IDENTIFIER=ringcri, the
  // level as PRIORITY) or "auto" (journald when stderr is the journal
  // stream systemd gave the service, JOURNAL_STREAM). The keeper it starts
  // logs to the journal too (as ringcri-keeper), else to <state>/keeper.log.
  std::string log_target = "auto";
  // The size of <state>/keeper.log past which it becomes keeper.log.1
  // (three old files kept); 4096 or more.
  std::uint64_t keeper_log_max_bytes = std::uint64_t{10} << 20;
  std::string cgroup_driver = "cgroupfs";                // cgroupfs or systemd
  // Switch on the kernel's favordynmods cgroup option at start, so moving
  // a process into its cgroups does not wait for an RCU grace period
  // (exec/cgroups/favordynmods.hpp). False leaves the node as it is.
  bool cgroup_favordynmods = true;
  // The streaming server behind Exec, Attach and PortForward (plain HTTP,
  // one-time URLs). Port 0: a free port chosen at start.
  std::string stream_server_address = "127.0.0.1";
  unsigned stream_server_port = 0;
  // Where Prometheus scrapes /metrics ("127.0.0.1:9090", "[::1]:9090");
  // empty: no metrics endpoint.
  std::string metrics_address;
  // The most processes one container may have (its cgroup's pids.max),
  // as CRI-O's pids_limit; 0: no limit beyond the pod's.
  std::int64_t pids_limit = 0;
  registry_config registry;
  image_pull_config image;
  cni_config cni;
  // By handler name; the default handler's entry only when configured.
  std::map<std::string, runtime_handler_config> runtimes;

  std::filesystem::path socket_path() const {
    return socket.empty() ? state_dir / "ringcri.sock" : socket;
  }

  // The handler RunPodSandbox's `runtime_handler` names: "" and "ringcri"
  // are the default one; null when no handler of that name is configured.
  const runtime_handler_config* runtime_handler(std::string_view name) const;
};

inline constexpr const char* default_config_file = "/etc/ringcri/ringcri.toml";

// Reads `file` over `base`. Unknown keys and wrong types are errors naming
// the file and the key.
result<config> load_file(const std::filesystem::path& file, config base = {});

// Parses TOML text (for tests); `origin` names it in errors.
result<config> parse(std::string_view toml, const std::string& origin, config base = {});

// Checks values that no type can: log level names, absolute paths, ranges.
result<void> validate(const config& c);

// Provenance: where a file set each key, for `ringcri config`.
//
// A key's path is written as in a TOML file and as errors name it:
// "root", "image.layer_store", "registry.auths.\"r.io:5000\".username",
// each part bare where TOML allows, else quoted.
std::string key_path(std::string_view parent, std::string_view key);

// A TOML basic string: quoted, with quotes, backslashes and control
// characters escaped.
std::string toml_string(std::string_view text);

// The line of each value (and table) a file set, by key path. Keys of
// [registry.auths] are listed under the host the parser reduces them to
// (registry.auths."docker.io" for "https://index.docker.io/v1/").
using key_lines = std::map<std::string, std::uint32_t, std::less<>>;

// As load_file and parse, and `lines` filled with where the file set each
// key. Errors name the line as well: "<file>:<line>: key 'cores' must be...".
result<config> load_file(const std::filesystem::path& file, config base, key_lines& lines);
result<config> parse(std::string_view toml, const std::string& origin, config base, key_lines& lines);

}  // namespace ringcri::config
