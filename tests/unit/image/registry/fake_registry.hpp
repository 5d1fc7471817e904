#pragma once
// Starts fake_registry.py (path in $FAKE_REGISTRY, interpreter in
// $PYTHON3) on 127.0.0.1 and talks to its control endpoints with plain
// blocking sockets, independent of the HTTP client under test.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "image/source/registry_hosts.hpp"
#include "support/loopback_http.hpp"

extern char** environ;

namespace registry_test {

inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

class fake_registry {
 public:
  explicit fake_registry(bool tls = false) {
    ::signal(SIGPIPE, SIG_IGN);
    std::string script = env_or("FAKE_REGISTRY", "fake_registry.py");
    std::string python = env_or("PYTHON3", "python3");
    std::vector<std::string> args{python, script};
    if (tls) {
      char tmpl[] = "/tmp/ringcri-registry-tls-XXXXXX";
      if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
      tls_dir_ = tmpl;
      args.push_back("--tls-dir");
      args.push_back(tls_dir_);
    }
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = ::posix_spawnp(&pid_, python.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) throw std::runtime_error("cannot start " + python + " " + script);
    stdin_ = in[1];  // closing it ends the server

    std::string line;
    pollfd p{out[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos) {
      if (::poll(&p, 1, 30'000) <= 0) throw std::runtime_error("fake registry did not start");
      char buf[512];
      ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) throw std::runtime_error("fake registry exited at start: " + script);
      line.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    info_ = nlohmann::json::parse(line);
  }

  fake_registry(const fake_registry&) = delete;
  fake_registry& operator=(const fake_registry&) = delete;

  ~fake_registry() {
    ::close(stdin_);
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    if (!tls_dir_.empty()) std::filesystem::remove_all(tls_dir_);
  }

  // One server per test program, started on first use.
  static fake_registry& shared() {
    static fake_registry r;
    return r;
  }

  int port(const char* which = "http") const { return info_.at(which).get<int>(); }
  std::string host(const char* which = "http") const {
    return "127.0.0.1:" + std::to_string(port(which));
  }
  std::string url(const std::string& path, const char* which = "http") const {
    return "http://" + host(which) + path;
  }
  std::string info(const char* key) const { return info_.at(key).get<std::string>(); }

  // An endpoint of this server ("/v2" upstream, "/m404/v2" a mirror...).
  ringcri::image::registry_endpoint endpoint(const std::string& path = "/v2",
                                             bool mirror = false) const {
    ringcri::image::registry_endpoint ep;
    ep.scheme = "http";
    ep.host = host();
    ep.path = path;
    ep.is_mirror = mirror;
    return ep;
  }

  // GET on a control path with a blocking socket; the body as JSON.
  nlohmann::json control(const std::string& path) const {
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    std::string resp = ringcri::testing::loopback_http(port(), req, "cannot reach the fake registry");
    auto body = resp.find("\r\n\r\n");
    if (body == std::string::npos) throw std::runtime_error("bad control answer");
    return nlohmann::json::parse(resp.substr(body + 4));
  }

  void reset() const { control("/_reset"); }
  nlohmann::json stats() const { return control("/_stats"); }
  const nlohmann::json& content() const {
    if (content_.is_null()) content_ = control("/_content");
    return content_;
  }
  std::string blob_digest(const std::string& name) const {
    return content()["blobs"][name]["digest"].get<std::string>();
  }
  std::int64_t blob_size(const std::string& name) const {
    return content()["blobs"][name]["size"].get<std::int64_t>();
  }
  std::string manifest_digest(const std::string& name) const {
    return content()["manifests"][name]["digest"].get<std::string>();
  }
  int connections(const char* server = "main") const {
    auto s = stats();
    auto c = s["connections"];
    return c.contains(server) ? c[server].get<int>() : 0;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::string tls_dir_;
  nlohmann::json info_;
  mutable nlohmann::json content_;
};

}  // namespace registry_test
