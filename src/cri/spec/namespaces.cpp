#include "cri/spec/namespaces.hpp"

#include <fmt/format.h>

namespace ringcri::cri::spec {

result<std::vector<exec::namespace_spec>> container_namespaces(
    const runtime::v1::NamespaceOption& options, const pod_paths& pod,
    const std::string& target_pid_ns) {
  std::vector<exec::namespace_spec> ns{{"mount", ""}};

  switch (options.pid()) {
    case runtime::v1::CONTAINER:
      ns.push_back({"pid", ""});
      break;
    case runtime::v1::POD:
      if (pod.pid_ns.empty())
        return fail(error_kind::failed_precondition,
                    "the container asks for the pod's pid namespace, but the pod shares none");
      ns.push_back({"pid", pod.pid_ns});
      break;
    case runtime::v1::NODE:
      break;
    case runtime::v1::TARGET:
      if (target_pid_ns.empty())
        return fail(
            error_kind::not_found,
            fmt::format("pid namespace of target container \"{}\" not found", options.target_id()));
      ns.push_back({"pid", target_pid_ns});
      break;
    default:
      return fail(error_kind::invalid_argument,
                  fmt::format("unknown pid namespace mode {}", static_cast<int>(options.pid())));
  }

  auto held = [&](const char* type, runtime::v1::NamespaceMode mode, const std::string& path) {
    if (mode != runtime::v1::NODE && !path.empty()) ns.push_back({type, path});
  };
  held("network", options.network(), pod.net_ns);
  held("ipc", options.ipc(), pod.ipc_ns);
  held("uts", options.network(), pod.uts_ns);

  // A cgroup namespace of its own hides the host's cgroup paths. (containerd
  // makes one only on pure cgroup v2 and not for privileged containers.)
  ns.push_back({"cgroup", ""});
  return ns;
}

}  // namespace ringcri::cri::spec
