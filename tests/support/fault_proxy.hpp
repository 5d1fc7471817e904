#pragma once
// tests/fixtures/fault_proxy.py started for a test: an HTTP (or HTTPS)
// proxy between the daemon and a registry that breaks the requests its
// rules name (dropped connections, wrong bytes, error statuses, stalls,
// failed TLS handshakes...; the script says which). Rules and the log of
// requests go through its control port, with plain blocking sockets.

#include <sys/types.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace ringcri::testing {

class fault_proxy {
 public:
  // `upstream`: "http://127.0.0.1:<port>". `tls`: serve HTTPS with a CA
  // of its own (ca()).
  explicit fault_proxy(const std::string& upstream, bool tls = false);
  ~fault_proxy();
  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  // "127.0.0.1:<port>"; "http" or "https"; the CA file (HTTPS only).
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string scheme() const { return tls_ ? "https" : "http"; }
  const std::filesystem::path& ca() const { return ca_; }

  // Replaces the rules (and their counts).
  void set_rules(const nlohmann::json& rules);
  // No rules, an empty log.
  void reset();
  // Every request seen, in order: {"method", "path", "range", "fault", "time"}.
  nlohmann::json log() const;
  // The logged requests whose path contains `needle`.
  std::vector<nlohmann::json> requests_to(const std::string& needle) const;

 private:
  std::string control(const std::string& method, const std::string& path,
                      const std::string& body = "") const;

  temp_dir dir_{"ringcri-fault-proxy"};
  bool tls_;
  pid_t pid_ = -1;
  int stdin_ = -1;  // closing it ends the proxy
  int port_ = 0;
  int control_port_ = 0;
  std::filesystem::path ca_;
};

}  // namespace ringcri::testing
