#pragma once
// Where to pull a registry's images from, in the format containerd users
// already keep: <config_path>/<host>/hosts.toml (and _default/hosts.toml).
//
//   server = "https://registry.example.com"
//   [host."https://mirror.example.com"]
//     capabilities = ["pull", "resolve"]
//     skip_verify = false
//     ca = "/etc/ringcri/certs.d/registry.example.com/ca.crt"   # or a list
//     client = [["/path/client.cert", "/path/client.key"]]       # or one path
//                                  # or a list of paths, each holding cert and key
//     override_path = false
//     [host."https://mirror.example.com".header]
//       x-custom = "value"                                       # or a list
//
// Mirrors are tried in file order, then the server. Registries on loopback
// may be plain HTTP without configuration, as Docker allows.

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace ringcri::image {

struct registry_endpoint {
  std::string scheme;        // "https" or "http"
  std::string host;          // "mirror.example.com:5000"
  std::string path = "/v2";  // API root: "/v2", or the host URL's own path with override_path
  bool can_pull = true;      // capability "pull": blobs may be fetched here
  bool can_resolve = true;   // capability "resolve": tags may be resolved here
  bool skip_verify = false;
  std::vector<std::filesystem::path> ca_files;
  // cert, key; an empty key means the cert file holds the key too.
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> client_certs;
  // Extra HTTP headers for every request to this endpoint (hosts.toml
  // `header`): name, values. Empty unless configured.
  std::vector<std::pair<std::string, std::vector<std::string>>> headers;
  bool is_mirror = false;

  // "https://mirror.example.com:5000/v2"
  std::string base_url() const { return scheme + "://" + host + path; }
};

struct registry_settings {
  std::filesystem::path config_path = "/etc/ringcri/certs.d";
  unsigned max_concurrent_downloads = 6;
};

// The endpoints to try for `registry` (as in reference::registry), in
// order. Errors in a hosts.toml name the file and the key.
//
// Reads files: blocking, so not for a reactor thread. With no hosts.toml
// (and no _default/hosts.toml) the one endpoint is the registry itself:
// https://registry-1.docker.io for docker.io, http://<registry> for a
// loopback registry, https://<registry> otherwise. The same default is the
// server when a hosts.toml has no `server`. Endpoints whose capabilities
// exclude what the caller does (can_pull, can_resolve) are still listed:
// the caller skips them.
result<std::vector<registry_endpoint>> endpoints_for(const registry_settings& settings,
                                                     std::string_view registry);

// The endpoints endpoints_for gives and the hosts.toml they came from
// (<config_path>/<registry>/hosts.toml or <config_path>/_default/hosts.toml),
// empty when neither exists: what `ringcri resolve` shows.
struct registry_hosts {
  std::filesystem::path file;
  std::vector<registry_endpoint> endpoints;
};
result<registry_hosts> hosts_for(const registry_settings& settings, std::string_view registry);

// The endpoints a hosts.toml text gives for `registry`; `file` names it in
// errors and its directory anchors relative `ca` and `client` paths.
result<std::vector<registry_endpoint>> parse_hosts_toml(std::string_view text,
                                                        const std::filesystem::path& file,
                                                        std::string_view registry);

}  // namespace ringcri::image
