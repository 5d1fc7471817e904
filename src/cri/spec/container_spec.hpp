#pragma once
// CreateContainer's translation: from the CRI request, the pod's config and
// the image's config to the exec::container_spec the spawn engine carries
// out. Pure apart from reading the image's /etc/passwd and /etc/group from
// the layer dirs and stat'ing the host paths of mounts and devices; the
// caller makes every directory and file named in the inputs.
//
// The rules are containerd's CRI plugin's, so a pod behaves the same under
// ringcri: see each part (process.hpp, mounts.hpp, devices.hpp,
// capabilities.hpp, namespaces.hpp, masked_paths.hpp).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api.pb.h"
#include "base/error.hpp"
#include "cri/spec/user_namespace.hpp"
#include "exec/spec.hpp"

namespace ringcri::cri::spec {

// What the pod gives its containers. Empty strings mean "none": no file to
// bind, or the host's namespace.
struct pod_paths {
  std::string hosts;        // bound on /etc/hosts
  std::string resolv_conf;  // bound on /etc/resolv.conf
  std::string hostname;     // bound on /etc/hostname
  std::string net_ns;       // held namespace files of the pod ("" = the host's)
  std::string ipc_ns;
  std::string uts_ns;
  std::string user_ns;  // the pod's user namespace, "" for the host's
  // The pod init's /proc/<pid>/ns/pid when the pod shares one pid namespace
  // among its containers, else "".
  std::string pid_ns;
};

// The three references come first so that `container_inputs in{config,
// sandbox, image};` then filling the rest field by field compiles cleanly.
struct container_inputs {
  const runtime::v1::ContainerConfig& config;           // of CreateContainerRequest
  const runtime::v1::PodSandboxConfig& sandbox_config;  // of the pod
  // The image config JSON as pulled: {"config": {"Entrypoint", "Cmd", "Env",
  // "WorkingDir", "User", "StopSignal", ...}, ...}.
  const nlohmann::json& image_config;
  std::string container_id{};
  std::vector<std::string> layers{};  // layer dirs, top first
  std::string upper{}, work{}, rootfs_target{};
  pod_paths pod{};
  // The pid namespace of the container named by namespace_options.target_id
  // (/proc/<pid>/ns/pid), for pid mode TARGET; the caller resolves the id.
  std::string target_pid_ns{};
  std::vector<std::string> cgroup_procs{};
  std::vector<exec::cgroup_hierarchy_spec> cgroup_hierarchies{};
  std::string cgroup_path{};
  std::string log_path{};
  std::string exit_path{};
  // The pod's runtime handler's seccomp profile for a container that asks
  // for none (config::runtime_handler_config::seccomp_profile).
  std::string unset_seccomp_profile{};
  // The pod's user namespace maps, with pod.user_ns.
  std::optional<pod_user_namespace> userns{};
};

result<exec::container_spec> build_container_spec(const container_inputs& in);

}  // namespace ringcri::cri::spec
