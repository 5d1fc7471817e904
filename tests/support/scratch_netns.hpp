#pragma once
// A network namespace of the test's own, held by an fd (no name under
// /run/netns, no process in it): closing the fd frees every link made in
// it. Commands run inside it through nsenter. Skips the test binary
// (exit 77) without root, iproute2 or nsenter. Header-only.

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/node_network.hpp"
#include "support/skip.hpp"

namespace ringcri::testing {

inline void need_root_ip_nsenter() {
  static bool checked = false;
  if (checked) return;
  if (::geteuid() != 0) skip_binary("needs root to make network namespaces");
  for (const char* tool : {"ip", "nsenter"})
    if (shell_output(std::string("command -v ") + tool).empty())
      skip_binary(std::string("no ") + tool + " (Debian packages iproute2, util-linux)");
  checked = true;
}

class scratch_netns {
 public:
  scratch_netns() {
    need_root_ip_nsenter();
    int err = 0;
    std::thread maker([&] {
      if (::unshare(CLONE_NEWNET) != 0)
        err = errno;
      else
        fd_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    });
    maker.join();
    if (err != 0) skip_binary(std::string("unshare(CLONE_NEWNET): ") + std::strerror(err));
    REQUIRE(fd_ >= 0);
  }
  ~scratch_netns() {
    if (fd_ >= 0) ::close(fd_);
  }
  scratch_netns(const scratch_netns&) = delete;
  scratch_netns& operator=(const scratch_netns&) = delete;

  int fd() const { return fd_; }
  std::string path() const { return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd_); }

  // `command` inside the namespace; it must succeed.
  std::string run(const std::string& command) const {
    int status = 0;
    std::string out = shell_output("nsenter --net=" + path() + " " + command, &status);
    INFO(command << " -> " << out);
    REQUIRE(status == 0);
    return out;
  }
  nlohmann::json ip(const std::string& args) const {
    std::string out = run("ip -j " + args);
    return out.empty() ? nlohmann::json::array() : nlohmann::json::parse(out);
  }

  // Whether a pod in this namespace is off the network: no address on any
  // interface but lo, other than link-local ones (a DEL of the native
  // bridge leaves the veth addressless for the namespace's end to take).
  bool off_network() const {
    for (const auto& link : ip("addr show"))
      if (link.value("ifname", "") != "lo")
        for (const auto& a : link.value("addr_info", nlohmann::json::array()))
          if (a.value("scope", "") != "link") return false;
    return true;
  }

  // Closes the namespace: the kernel frees its links soon after.
  void close() {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace ringcri::testing
