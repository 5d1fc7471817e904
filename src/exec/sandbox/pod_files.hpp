#pragma once
// The files a pod's containers see as /etc/hostname, /etc/hosts and
// /etc/resolv.conf: written once per pod under its state dir and bind
// mounted into each container.

#include <filesystem>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace ringcri::exec::sandbox {

struct pod_files_request {
  // The pod's hostname; empty: the host's.
  std::string hostname;
  // The pod's IP when known, for its line in hosts; empty: 127.0.1.1.
  std::string ip;
  // CRI DNSConfig.
  std::vector<std::string> dns_servers;
  std::vector<std::string> dns_searches;
  std::vector<std::string> dns_options;
  bool has_dns_config = false;
  // The pod shares the host's network namespace: hosts is the host's.
  bool host_network = false;
  // Where the host's hosts and resolv.conf are read from.
  std::filesystem::path host_etc = "/etc";
};

// Paths of the written files.
struct pod_files {
  std::string hostname;
  std::string hosts;
  std::string resolv_conf;
};

// Writes <pod_dir>/hostname, <pod_dir>/hosts and <pod_dir>/resolv.conf,
// each atomically (sys::write_file_atomic, unsynced), mode 0644. <pod_dir>
// must exist.
//
// hostname: the hostname and a newline.
// hosts: with host_network the host's /etc/hosts, else the kubelet's
//   managed file: localhost lines, the IPv6 lines, and "<ip> <hostname>".
// resolv.conf: from the DNS config as containerd writes it (one search
//   line, a nameserver line per server, one options line); with no DNS
//   config, or one that yields nothing, the host's /etc/resolv.conf.
result<pod_files> write_pod_files(const std::filesystem::path& pod_dir,
                                  const pod_files_request& req);

// The contents write_pod_files writes, without touching the pod dir
// (host files are still read when needed).
result<std::string> pod_hosts_content(const pod_files_request& req, const std::string& hostname);
result<std::string> pod_resolv_conf_content(const pod_files_request& req);

}  // namespace ringcri::exec::sandbox
