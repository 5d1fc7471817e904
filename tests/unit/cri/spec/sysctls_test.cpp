// Which pod sysctls may be set: only those of a namespace the pod owns.

#include <catch2/catch.hpp>

#include "cri/spec/sysctls.hpp"

using namespace ringcri::cri::spec;
namespace v1 = runtime::v1;

namespace {
v1::PodSandboxConfig pod_with(std::initializer_list<std::pair<const char*, const char*>> sysctls,
                              v1::NamespaceMode network = v1::POD, v1::NamespaceMode ipc = v1::POD) {
  v1::PodSandboxConfig pod;
  auto* ns = pod.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  ns->set_network(network);
  ns->set_ipc(ipc);
  for (auto [k, v] : sysctls) (*pod.mutable_linux()->mutable_sysctls())[k] = v;
  return pod;
}
}  // namespace

TEST_CASE("namespaced sysctls of the pod's own namespaces pass, in key order, dotted") {
  auto out = pod_sysctls(pod_with({{"net/ipv4/ip_unprivileged_port_start", "0"},
                                   {"kernel.shm_rmid_forced", "1"},
                                   {"fs.mqueue.msg_max", "20"},
                                   {"net.ipv4.conf.eth0/1.forwarding", "1"}}));
  REQUIRE(out);
  REQUIRE(out->size() == 4);
  CHECK((*out)[0].first == "fs.mqueue.msg_max");
  CHECK((*out)[1].first == "kernel.shm_rmid_forced");
  CHECK((*out)[2].first == "net.ipv4.conf.eth0/1.forwarding");
  CHECK((*out)[3].first == "net.ipv4.ip_unprivileged_port_start");
}

TEST_CASE("a sysctl that is not namespaced is INVALID_ARGUMENT naming it") {
  for (const char* key : {"kernel.panic", "vm.swappiness", "kernel.pid_max", "fs.file-max"}) {
    auto out = pod_sysctls(pod_with({{key, "1"}}));
    REQUIRE_FALSE(out);
    CHECK(out.error().kind() == ringcri::error_kind::invalid_argument);
    CHECK(out.error().message().find(key) != std::string::npos);
  }
}

TEST_CASE("a namespaced sysctl of a namespace shared with the node is refused") {
  CHECK_FALSE(pod_sysctls(pod_with({{"net.ipv4.ip_forward", "1"}}, v1::NODE)));
  CHECK_FALSE(pod_sysctls(pod_with({{"kernel.domainname", "x"}}, v1::NODE)));
  CHECK_FALSE(pod_sysctls(pod_with({{"kernel.sem", "1 2 3 4"}}, v1::POD, v1::NODE)));
  CHECK(pod_sysctls(pod_with({{"kernel.sem", "1 2 3 4"}}, v1::NODE, v1::POD)));
}
