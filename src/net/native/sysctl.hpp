#pragma once
// Writing sysctls under /proc/sys/net, which belong to the network
// namespace of the thread that opens them: a pod's (its eth0's arp_notify)
// or the host's (ip_forward). On the blocking pool: entering a namespace
// takes setns, which a reactor thread never calls.

#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::native {

struct sysctl_write {
  std::string name;       // "net/ipv4/ip_forward", under /proc/sys
  std::string value;      // "1"
  bool required = false;  // false: a failure is ignored, as the plugins ignore it
};

// g++ 12 cannot brace-initialize these inside a co_await expression.
inline sysctl_write make_sysctl(std::string name, std::string value, bool required = false) {
  sysctl_write w;
  w.name = std::move(name);
  w.value = std::move(value);
  w.required = required;
  return w;
}

// Writes each in order, inside `netns_fd` (-1: the daemon's own). A value
// already set is not written again. The first failure of a required one.
reactor::task<result<void>> write_sysctls(int netns_fd, std::vector<sysctl_write> writes);

// The values of `names` ("net/ipv4/ip_forward"), each without its trailing
// newline, read inside `netns_fd` (-1: the daemon's own).
reactor::task<result<std::vector<std::string>>> read_sysctls(int netns_fd,
                                                             std::vector<std::string> names);

}  // namespace ringcri::net::native
