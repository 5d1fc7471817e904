#pragma once
// The pod side of a CNI call: which container and network namespace, the
// interface name inside it, CNI_ARGS, the ports to map on the host and
// the traffic limits.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ringcri::net::cni {

// One hostPort of the pod, for plugins with the "portMappings" capability.
struct port_mapping {
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  std::string protocol = "tcp";  // "tcp", "udp" or "sctp", lower-case
  std::string host_ip;           // empty: every host address
};

// Traffic limits for plugins with the "bandwidth" capability (the
// bandwidth plugin): rates in bits per second, bursts in bits; 0 is no
// limit that way.
struct bandwidth_limits {
  uint64_t ingress_rate = 0;
  uint64_t ingress_burst = 0;
  uint64_t egress_rate = 0;
  uint64_t egress_burst = 0;
};

struct attachment {
  std::string container_id;  // the sandbox id (CNI_CONTAINERID)
  std::string netns_path;    // the pod's pinned network namespace (CNI_NETNS)
  std::string ifname = "eth0";
  // CNI_ARGS, e.g. IgnoreUnknown=1, K8S_POD_NAMESPACE, K8S_POD_NAME,
  // K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID.
  std::vector<std::pair<std::string, std::string>> args;
  std::vector<port_mapping> port_mappings;
  std::optional<bandwidth_limits> bandwidth;
};

}  // namespace ringcri::net::cni
