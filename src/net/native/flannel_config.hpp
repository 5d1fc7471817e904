#pragma once
// The flannel meta plugin (flannel-io/cni-plugin), read as it reads its
// config and /run/flannel/subnet.env, and the config it renders for its
// delegate: bridge by default, with host-local on the node's flannel
// subnet, the flannel networks as routes, flannel's MTU, and ipMasq when
// flannel itself does not masquerade. The rendered config is what the
// plugin saves under its dataDir for DEL, byte for byte as its Go encoder
// writes it (keys sorted, compact), so a pod ADDed one way is DELeted by
// the other.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "net/ip/address.hpp"

namespace ringcri::net::native {

struct flannel_config {
  std::string name;
  std::string cni_version;
  std::string subnet_file = "/run/flannel/subnet.env";
  std::string data_dir = "/var/lib/cni/flannel";
  nlohmann::json delegate = nlohmann::json::object();  // as written: no name, no ipam
  nlohmann::json ipam;                                 // an object, or null
  nlohmann::json runtime_config;                       // an object, or null
};

// `plugin` is the flannel entry's stdin config. The native path takes
// every config whose delegate is the bridge (the default); another
// delegate type runs the flannel plugin.
struct flannel_choice {
  std::optional<flannel_config> config;
  std::string exec_reason;
};
flannel_choice choose_flannel(const nlohmann::json& plugin);

// What flanneld wrote for this node.
struct subnet_env {
  std::vector<ip::prefix> networks;       // FLANNEL_NETWORK, comma separated
  std::optional<ip::prefix> subnet;       // FLANNEL_SUBNET, as a network
  std::vector<ip::prefix> ipv6_networks;  // FLANNEL_IPV6_NETWORK
  std::optional<ip::prefix> ipv6_subnet;  // FLANNEL_IPV6_SUBNET
  std::optional<unsigned> mtu;            // FLANNEL_MTU
  std::optional<bool> ipmasq;             // FLANNEL_IPMASQ: flannel masquerades itself
};

// The file's text; `file_name` names it in errors. INVALID_ARGUMENT for a
// malformed value or a missing key, in the plugin's words.
result<subnet_env> parse_subnet_env(std::string_view text, const std::string& file_name);

// The delegate's config, or the plugin's refusal (a delegate with its own
// "name" or "ipam", a "type" that is not a string).
result<nlohmann::json> render_delegate(const flannel_config& config, const subnet_env& env);

// The rendered config as the plugin saves it.
std::string saved_form(const nlohmann::json& delegate);

}  // namespace ringcri::net::native
