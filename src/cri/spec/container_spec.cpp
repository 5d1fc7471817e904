#include "cri/spec/container_spec.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "cri/spec/apparmor.hpp"
#include "cri/spec/capabilities.hpp"
#include "cri/spec/devices.hpp"
#include "cri/spec/masked_paths.hpp"
#include "cri/spec/mounts.hpp"
#include "cri/spec/namespaces.hpp"
#include "cri/spec/process.hpp"
#include "cri/spec/seccomp.hpp"
#include "cri/spec/sysctls.hpp"
#include "exec/users/users.hpp"

namespace ringcri::cri::spec {

namespace {

result<std::uint32_t> to_id(std::int64_t v, std::string_view what) {
  if (v < 0 || v > static_cast<std::int64_t>(UINT32_MAX))
    return fail(error_kind::invalid_argument, fmt::format("{} {} is out of range", what, v));
  return static_cast<std::uint32_t>(v);
}

result<exec::user_spec> container_user(const container_inputs& in) {
  const auto& sc = in.config.linux().security_context();
  std::optional<std::uint32_t> uid, gid;
  std::optional<std::string> username;
  if (sc.has_run_as_user()) {
    auto v = to_id(sc.run_as_user().value(), "run_as_user");
    if (!v) return tl::unexpected(v.error());
    uid = *v;
  }
  if (sc.has_run_as_group()) {
    auto v = to_id(sc.run_as_group().value(), "run_as_group");
    if (!v) return tl::unexpected(v.error());
    gid = *v;
  }
  if (!sc.run_as_username().empty()) username = sc.run_as_username();
  std::vector<std::uint32_t> supplemental;
  for (std::int64_t g : sc.supplemental_groups()) {
    auto v = to_id(g, "supplemental group");
    if (!v) return tl::unexpected(v.error());
    supplemental.push_back(*v);
  }
  exec::supplemental_groups_policy policy;
  switch (sc.supplemental_groups_policy()) {
    case runtime::v1::Merge:
      policy = exec::supplemental_groups_policy::merge;
      break;
    case runtime::v1::Strict:
      policy = exec::supplemental_groups_policy::strict;
      break;
    default:
      return fail(error_kind::invalid_argument,
                  fmt::format("unknown supplemental groups policy {}",
                              static_cast<int>(sc.supplemental_groups_policy())));
  }
  auto image_user_r = image_user(in.image_config);
  if (!image_user_r) return tl::unexpected(image_user_r.error());
  return exec::resolve_user(in.layers, *image_user_r, uid, std::move(username), gid, supplemental,
                            policy);
}

// The pod's hostname for HOSTNAME=; a pod without one (host network) has
// the node's.
result<std::string> pod_hostname(const runtime::v1::PodSandboxConfig& sandbox) {
  if (!sandbox.hostname().empty()) return sandbox.hostname();
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return fail_errno(errno, "gethostname");
  return std::string(name);
}

// The tmpfs and devpts mounts are made from outside the pod's user
// namespace (child_container.cpp), so their owners are given in host ids:
// the pod's root owns /dev and /dev/shm, and the tty group is its own.
void own_mounts_by_pod_root(exec::container_spec& spec) {
  const std::uint32_t root_uid = sys::host_id_of(spec.uid_mappings, 0);
  const std::uint32_t root_gid = sys::host_id_of(spec.gid_mappings, 0);
  for (exec::mount_spec& m : spec.mounts) {
    if (m.type == "tmpfs") {
      m.options.push_back(fmt::format("uid={}", root_uid));
      m.options.push_back(fmt::format("gid={}", root_gid));
    } else if (m.type == "devpts") {
      for (std::string& o : m.options)
        if (o.rfind("gid=", 0) == 0) {
          auto gid = static_cast<std::uint32_t>(std::strtoul(o.c_str() + 4, nullptr, 10));
          o = fmt::format("gid={}", sys::host_id_of(spec.gid_mappings, gid));
        }
    }
  }
}

}  // namespace

result<exec::container_spec> build_container_spec(const container_inputs& in) {
  const auto& config = in.config;
  const auto& sc = config.linux().security_context();
  auto fail_ctx = [&](error e) {
    return tl::unexpected(
        std::move(e).context(fmt::format("container \"{}\"", config.metadata().name())));
  };

  if (sc.privileged() && !in.sandbox_config.linux().security_context().privileged())
    return fail_ctx(error(error_kind::invalid_argument,
                          "no privileged container allowed in a non-privileged pod"));

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const std::string& old_apparmor = sc.apparmor_profile();
#pragma GCC diagnostic pop
  if (auto ok = check_apparmor(sc.has_apparmor() ? &sc.apparmor() : nullptr, old_apparmor); !ok)
    return fail_ctx(ok.error());

  exec::container_spec spec;
  spec.id = in.container_id;

  // The process.
  auto args = process_args(config, in.image_config);
  if (!args) return fail_ctx(args.error());
  spec.process.args = std::move(*args);
  auto hostname = pod_hostname(in.sandbox_config);
  if (!hostname) return fail_ctx(hostname.error());
  auto env = process_env(config, in.image_config, *hostname);
  if (!env) return fail_ctx(env.error());
  spec.process.env = std::move(*env);
  auto cwd = process_cwd(config, in.image_config);
  if (!cwd) return fail_ctx(cwd.error());
  spec.process.cwd = std::move(*cwd);
  auto user = container_user(in);
  if (!user) return fail_ctx(user.error());
  spec.process.user = std::move(*user);
  auto caps = container_capabilities(sc);
  if (!caps) return fail_ctx(caps.error());
  spec.process.capabilities = std::move(*caps);
  spec.process.no_new_privileges = sc.no_new_privs();
  // No rlimits: the container inherits the daemon's, as under containerd.
  if (config.linux().has_resources())
    spec.process.oom_score_adj = static_cast<int>(config.linux().resources().oom_score_adj());
  auto seccomp =
      container_seccomp(sc, spec.process.capabilities.bounding, in.unset_seccomp_profile);
  if (!seccomp) return fail_ctx(seccomp.error());
  spec.process.seccomp = std::move(*seccomp);
  spec.process.terminal = config.tty();

  // The rootfs.
  spec.rootfs.lowers = in.layers;
  spec.rootfs.upper = in.upper;
  spec.rootfs.work = in.work;
  spec.rootfs.target = in.rootfs_target;
  spec.rootfs.readonly = sc.readonly_rootfs();

  // What the container sees.
  auto mounts = container_mounts(config, in.pod, sc.readonly_rootfs(), sc.privileged());
  if (!mounts) return fail_ctx(mounts.error());
  spec.mounts = std::move(*mounts);
  auto devices = container_devices(config, sc.privileged());
  if (!devices) return fail_ctx(devices.error());
  spec.devices = std::move(*devices);
  auto paths = container_proc_paths(sc);
  spec.masked_paths = std::move(paths.masked);
  spec.readonly_paths = std::move(paths.readonly);
  auto ns = container_namespaces(sc.namespace_options(), in.pod, in.target_pid_ns);
  if (!ns) return fail_ctx(ns.error());
  spec.namespaces = std::move(*ns);
  if (in.userns && !in.pod.user_ns.empty()) {
    spec.namespaces.push_back({"user", in.pod.user_ns});
    spec.uid_mappings = in.userns->uids;
    spec.gid_mappings = in.userns->gids;
    own_mounts_by_pod_root(spec);
  }
  // spec.hostname stays empty: the pod's UTS namespace carries it (namespaces.hpp).

  // Sysctls of the pod, in key order (a protobuf map has none of its own).
  auto sysctls = pod_sysctls(in.sandbox_config);
  if (!sysctls) return fail_ctx(sysctls.error());
  spec.sysctls = std::move(*sysctls);

  spec.cgroup_procs = in.cgroup_procs;
  spec.cgroup_hierarchies = in.cgroup_hierarchies;
  spec.cgroup_path = in.cgroup_path;
  spec.log_path = in.log_path;
  spec.exit_path = in.exit_path;
  spec.stdin_open = config.stdin();
  return spec;
}

}  // namespace ringcri::cri::spec
