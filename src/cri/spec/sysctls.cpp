#include "cri/spec/sysctls.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace ringcri::cri::spec {

namespace {

enum class owner { ipc, uts, net, none };

owner owner_of(const std::string& key) {
  static constexpr std::array ipc = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",  "kernel.sem",
                                     "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  if (std::find(ipc.begin(), ipc.end(), key) != ipc.end() || key.rfind("fs.mqueue.", 0) == 0) return owner::ipc;
  if (key == "kernel.domainname" || key == "kernel.hostname") return owner::uts;
  if (key.rfind("net.", 0) == 0) return owner::net;
  return owner::none;
}

// "net/ipv4/ip_forward" -> "net.ipv4.ip_forward"; a name with dots keeps
// its slashes (they are part of a component, as in a net device name).
std::string dotted(std::string key) {
  auto first = key.find_first_of("./");
  if (first != std::string::npos && key[first] == '/') std::replace(key.begin(), key.end(), '/', '.');
  return key;
}

}  // namespace

result<std::vector<std::pair<std::string, std::string>>> pod_sysctls(const runtime::v1::PodSandboxConfig& pod) {
  const auto& ns = pod.linux().security_context().namespace_options();
  bool host_network = ns.network() == runtime::v1::NODE;
  bool host_ipc = ns.ipc() == runtime::v1::NODE;
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : pod.linux().sysctls()) {
    std::string key = dotted(name);
    switch (owner_of(key)) {
      case owner::ipc:
        if (host_ipc)
          return fail(error_kind::invalid_argument,
                      fmt::format("sysctl \"{}\" needs the pod's own IPC namespace; it shares the node's", name));
        break;
      case owner::uts:
      case owner::net:
        if (host_network)
          return fail(error_kind::invalid_argument,
                      fmt::format("sysctl \"{}\" needs the pod's own network and UTS namespaces; it shares the node's",
                                  name));
        break;
      case owner::none:
        return fail(error_kind::invalid_argument,
                    fmt::format("sysctl \"{}\" is not namespaced: setting it would change the node", name));
    }
    if (value.find('\n') != std::string::npos)
      return fail(error_kind::invalid_argument, fmt::format("sysctl \"{}\": the value has a newline", name));
    out.emplace_back(std::move(key), value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ringcri::cri::spec
