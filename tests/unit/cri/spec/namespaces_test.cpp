// Namespaces of a container from its namespace options and the pod's held
// namespaces.

#include "cri/spec/namespaces.hpp"

#include <catch2/catch.hpp>

using namespace ringcri::cri::spec;
using ringcri::error_kind;
using ringcri::exec::namespace_spec;

namespace {

pod_paths pod_with_all() {
  pod_paths p;
  p.net_ns = "/run/ringcri/pods/p/ns/net";
  p.ipc_ns = "/run/ringcri/pods/p/ns/ipc";
  p.uts_ns = "/run/ringcri/pods/p/ns/uts";
  p.pid_ns = "/proc/4242/ns/pid";
  return p;
}

runtime::v1::NamespaceOption opts(runtime::v1::NamespaceMode network,
                                  runtime::v1::NamespaceMode pid, runtime::v1::NamespaceMode ipc) {
  runtime::v1::NamespaceOption o;
  o.set_network(network);
  o.set_pid(pid);
  o.set_ipc(ipc);
  return o;
}

// "type=path" in list order, "type" alone for a new one.
std::vector<std::string> shown(const std::vector<namespace_spec>& ns) {
  std::vector<std::string> out;
  for (const auto& n : ns) out.push_back(n.path.empty() ? n.type : n.type + "=" + n.path);
  return out;
}

}  // namespace

TEST_CASE("kubelet's default: own pid, the pod's net, ipc and uts", "[namespaces]") {
  auto ns = container_namespaces(opts(runtime::v1::POD, runtime::v1::CONTAINER, runtime::v1::POD),
                                 pod_with_all(), "");
  REQUIRE(ns);
  CHECK(shown(*ns) == std::vector<std::string>{"mount", "pid", "network=/run/ringcri/pods/p/ns/net",
                                               "ipc=/run/ringcri/pods/p/ns/ipc",
                                               "uts=/run/ringcri/pods/p/ns/uts", "cgroup"});
}

TEST_CASE("pid POD joins the pod init's pid namespace", "[namespaces]") {
  auto ns = container_namespaces(opts(runtime::v1::POD, runtime::v1::POD, runtime::v1::POD),
                                 pod_with_all(), "");
  REQUIRE(ns);
  CHECK(shown(*ns)[1] == "pid=/proc/4242/ns/pid");
}

TEST_CASE("pid POD in a pod that shares none is FAILED_PRECONDITION", "[namespaces]") {
  auto pod = pod_with_all();
  pod.pid_ns.clear();
  auto ns =
      container_namespaces(opts(runtime::v1::POD, runtime::v1::POD, runtime::v1::POD), pod, "");
  REQUIRE(!ns);
  CHECK(ns.error().kind() == error_kind::failed_precondition);
}

TEST_CASE("NODE modes leave the host's namespaces (absent from the list)", "[namespaces]") {
  auto ns = container_namespaces(opts(runtime::v1::NODE, runtime::v1::NODE, runtime::v1::NODE),
                                 pod_with_all(), "");
  REQUIRE(ns);
  // UTS follows the network mode.
  CHECK(shown(*ns) == std::vector<std::string>{"mount", "cgroup"});
}

TEST_CASE("a pod on the host network holds no net or uts namespace", "[namespaces]") {
  auto pod = pod_with_all();
  pod.net_ns.clear();
  pod.uts_ns.clear();
  auto ns = container_namespaces(opts(runtime::v1::POD, runtime::v1::CONTAINER, runtime::v1::POD),
                                 pod, "");
  REQUIRE(ns);
  CHECK(shown(*ns) ==
        std::vector<std::string>{"mount", "pid", "ipc=/run/ringcri/pods/p/ns/ipc", "cgroup"});
}

TEST_CASE("pid TARGET joins the target's, which must be given", "[namespaces]") {
  auto o = opts(runtime::v1::POD, runtime::v1::TARGET, runtime::v1::POD);
  o.set_target_id("abc");
  auto ns = container_namespaces(o, pod_with_all(), "/proc/99/ns/pid");
  REQUIRE(ns);
  CHECK(shown(*ns)[1] == "pid=/proc/99/ns/pid");
  auto missing = container_namespaces(o, pod_with_all(), "");
  REQUIRE(!missing);
  CHECK(missing.error().kind() == error_kind::not_found);
  CHECK_THAT(missing.error().message(), Catch::Contains("abc"));
}
