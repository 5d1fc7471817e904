#pragma once
// container_spec and exec_spec as JSON: how the daemon hands them to the
// keeper, and what `crictl inspect` shows as the resolved spec.

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "exec/spec.hpp"

namespace nlohmann {
template <class T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& v) {
    if (v) j = *v; else j = nullptr;
  }
  static void from_json(const json& j, std::optional<T>& v) {
    if (j.is_null()) v.reset(); else v = j.get<T>();
  }
};
}  // namespace nlohmann

namespace ringcri::sys {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(id_mapping, container_id, host_id, size)
}  // namespace ringcri::sys

namespace ringcri::exec {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(mount_spec, destination, type, source, options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(device_spec, path, type, major, minor, mode, uid, gid)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(namespace_spec, type, path)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(user_spec, uid, gid, additional_gids)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(capabilities_spec, bounding, effective, permitted,
                                                inheritable, ambient)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(rlimit_spec, type, soft, hard)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(seccomp_arg, index, value, value_two, op)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(seccomp_rule, names, action, errno_ret, args)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(seccomp_spec, default_action, default_errno_ret, syscalls)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(process_spec, args, env, cwd, user, capabilities,
                                                no_new_privileges, rlimits, oom_score_adj, seccomp,
                                                terminal)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(cgroup_hierarchy_spec, name, type, options,
                                                mount_point, root)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(rootfs_spec, lowers, upper, work, target, readonly)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(container_spec, id, process, rootfs, hostname,
                                                mounts, devices, masked_paths, readonly_paths,
                                                namespaces, uid_mappings, gid_mappings,
                                                cgroup_procs, cgroup_path, cgroup_hierarchies,
                                                sysctls, log_path, exit_path, stdin_open)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(exec_spec, container_id, process, cgroup_procs)

// Whether a number anywhere in `j` is a float. No spec field is one (nor
// any field of an OCI seccomp profile), and get<>() converts a float to
// the integer field it lands in, which is undefined behaviour when it is
// out of range: JSON from outside is refused when this holds, before any
// get<>(). A loop, not recursion: the sender chooses the nesting depth.
inline bool holds_float(const nlohmann::json& j) {
  std::vector<const nlohmann::json*> todo{&j};
  while (!todo.empty()) {
    const nlohmann::json* v = todo.back();
    todo.pop_back();
    if (v->is_number_float()) return true;
    if (v->is_structured())
      for (const auto& child : *v) todo.push_back(&child);
  }
  return false;
}

}  // namespace ringcri::exec
