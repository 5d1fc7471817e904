#include "support/fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "support/loopback_http.hpp"
#include "support/registry_fixture.hpp"

extern char** environ;

namespace ringcri::testing {

fault_proxy::fault_proxy(const std::string& upstream, bool tls) : tls_(tls) {
  ::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args{"/usr/bin/python3", (fixtures_dir() / "fault_proxy.py").string(),
                                "--upstream", upstream};
  if (tls) {
    args.push_back("--tls-dir");
    args.push_back((dir_.path() / "tls").string());
  }
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = ::posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    throw std::runtime_error("cannot start fault_proxy.py");
  }
  stdin_ = in[1];

  std::string line;
  pollfd p{out[0], POLLIN, 0};
  while (line.find('\n') == std::string::npos) {
    if (::poll(&p, 1, 60'000) <= 0) break;
    char buf[512];
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  if (line.find('\n') == std::string::npos)
    throw std::runtime_error("fault_proxy.py did not start");
  auto info = nlohmann::json::parse(line);
  port_ = info.at("port").get<int>();
  control_port_ = info.at("control").get<int>();
  ca_ = info.at("ca").get<std::string>();
}

fault_proxy::~fault_proxy() {
  if (stdin_ >= 0) ::close(stdin_);
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

std::string fault_proxy::control(const std::string& method, const std::string& path,
                                 const std::string& body) const {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: proxy\r\nConnection: close\r\n" +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string resp = loopback_http(control_port_, req, "cannot reach the fault proxy's control port");
  auto at = resp.find("\r\n\r\n");
  if (!resp.starts_with("HTTP/1.1 200") || at == std::string::npos)
    throw std::runtime_error("fault proxy control " + path + " failed: " + resp.substr(0, 200));
  return resp.substr(at + 4);
}

void fault_proxy::set_rules(const nlohmann::json& rules) {
  control("POST", "/rules", nlohmann::json{{"rules", rules}}.dump());
}

void fault_proxy::reset() { control("POST", "/reset"); }

nlohmann::json fault_proxy::log() const { return nlohmann::json::parse(control("GET", "/log")); }

std::vector<nlohmann::json> fault_proxy::requests_to(const std::string& needle) const {
  std::vector<nlohmann::json> out;
  for (const auto& e : log())
    if (e.at("path").get<std::string>().find(needle) != std::string::npos) out.push_back(e);
  return out;
}

}  // namespace ringcri::testing
