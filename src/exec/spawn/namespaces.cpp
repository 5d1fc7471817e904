// Joining cgroups and held namespaces, namespace flags, hostname and sysctls.

#include "exec/spawn/namespaces.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace ringcri::exec::spawn_detail {

namespace {
struct kind {
  const char* type;
  int flag;
};
constexpr kind kinds[] = {
    {"mount", CLONE_NEWNS},  {"pid", CLONE_NEWPID}, {"network", CLONE_NEWNET},
    {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS}, {"cgroup", CLONE_NEWCGROUP},
    {"user", CLONE_NEWUSER},
};
}  // namespace

result<void> join_cgroups(const std::vector<std::string>& cgroup_procs) {
  for (const std::string& path : cgroup_procs) {
    unique_fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), "0", 1) < 0)
      return fail_errno(errno, fmt::format("join cgroup \"{}\"", path));
  }
  return {};
}

const namespace_spec* find_namespace(const container_spec& spec, const std::string& type) {
  for (const namespace_spec& ns : spec.namespaces)
    if (ns.type == type) return &ns;
  return nullptr;
}

result<std::uint64_t> clone_flags(const container_spec& spec) {
  for (const namespace_spec& ns : spec.namespaces) {
    bool known = false;
    for (const kind& k : kinds) known = known || ns.type == k.type;
    if (!known)
      return fail(error_kind::invalid_argument,
                  fmt::format("unsupported namespace \"{}\"", ns.type));
  }
  if (const namespace_spec* user = find_namespace(spec, "user"); user && user->path.empty())
    return fail(error_kind::invalid_argument,
                "a container's user namespace must be its pod's (a path), not a new one");
  const namespace_spec* mnt = find_namespace(spec, "mount");
  if (!mnt || !mnt->path.empty())
    return fail(error_kind::invalid_argument, "a container needs a new mount namespace");
  std::uint64_t flags = 0;
  for (const kind& k : kinds) {
    if (k.flag == CLONE_NEWCGROUP || k.flag == CLONE_NEWUSER) continue;
    const namespace_spec* ns = find_namespace(spec, k.type);
    if (ns && ns->path.empty()) flags |= static_cast<std::uint64_t>(k.flag);
  }
  return flags;
}

result<void> join_namespace_paths(const container_spec& spec) {
  for (const kind& k : kinds) {
    // Made, or joined by the parent; the user namespace is joined last.
    if (k.flag == CLONE_NEWNS || k.flag == CLONE_NEWPID || k.flag == CLONE_NEWUSER) continue;
    const namespace_spec* ns = find_namespace(spec, k.type);
    if (!ns || ns->path.empty()) continue;
    const std::string what = fmt::format("join {} namespace \"{}\"", k.type, ns->path);
    unique_fd fd(::open(ns->path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno(errno, what);
    if (::setns(fd.get(), k.flag) < 0) return fail_errno(errno, what);
  }
  return {};
}

result<unique_fd> open_user_namespace(const container_spec& spec) {
  const namespace_spec* ns = find_namespace(spec, "user");
  if (!ns) return unique_fd{};
  unique_fd fd(::open(ns->path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("open user namespace \"{}\"", ns->path));
  return fd;
}

result<void> join_user_namespace(int userns_fd) {
  if (userns_fd < 0) return {};
  if (::setns(userns_fd, CLONE_NEWUSER) < 0)
    return fail_errno(errno, "join the pod's user namespace");
  return {};
}

result<void> set_hostname(const container_spec& spec) {
  if (spec.hostname.empty() || !find_namespace(spec, "uts")) return {};
  if (::sethostname(spec.hostname.data(), spec.hostname.size()) < 0)
    return fail_errno(errno, fmt::format("sethostname \"{}\"", spec.hostname));
  return {};
}

result<void> apply_sysctls(const std::vector<std::pair<std::string, std::string>>& sysctls) {
  for (const auto& [key, value] : sysctls) {
    const std::string what = fmt::format("sysctl {}={}", key, value);
    if (key.empty() || key.find("..") != std::string::npos)
      return fail(error_kind::invalid_argument, what + ": bad name");
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    // Opened by this process, a namespaced sysctl is the one of the
    // namespaces it has joined by now.
    unique_fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return fail_errno(errno, fmt::format("{}: open \"{}\"", what, path));
    if (::write(fd.get(), value.data(), value.size()) < 0)
      return fail_errno(errno, fmt::format("{}: write \"{}\"", what, path));
  }
  return {};
}

}  // namespace ringcri::exec::spawn_detail
