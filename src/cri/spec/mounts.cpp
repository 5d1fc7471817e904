#include "cri/spec/mounts.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <memory>
#include <set>

#include "base/sys/mount_setattr.hpp"

namespace ringcri::cri::spec {

namespace {

// One bind to make: a request's mount or one of the pod's files.
struct bind_request {
  std::string destination;  // cleaned
  std::string host_path;
  bool readonly = false;
  runtime::v1::MountPropagation propagation = runtime::v1::PROPAGATION_PRIVATE;
  bool recursive_readonly = false;
};

std::size_t depth(std::string_view cleaned) {
  return static_cast<std::size_t>(std::count(cleaned.begin(), cleaned.end(), '/'));
}

result<bind_request> from_cri(const runtime::v1::Mount& m) {
  const std::string& dst = m.container_path();
  if (dst.empty() || dst[0] != '/')
    return fail(
        error_kind::invalid_argument,
        fmt::format("mount of \"{}\": container path \"{}\" is not absolute", m.host_path(), dst));
  if (m.has_image() && !m.image().image().empty())
    return fail(error_kind::unimplemented,
                fmt::format("mount on {}: image volumes are not supported", dst));
  if (m.host_path().empty())
    return fail(error_kind::invalid_argument, fmt::format("mount on {}: no host path", dst));
  if (m.uidmappings_size() > 0 || m.gidmappings_size() > 0)
    return fail(error_kind::unimplemented,
                fmt::format("mount on {}: id-mapped mounts are not supported", dst));
  if (m.recursive_read_only()) {
    // As the CRI says: only on a read-only, private mount (a slave or
    // shared one would take in rw mounts the host makes later).
    if (!m.readonly())
      return fail(error_kind::invalid_argument,
                  fmt::format("mount on {} (host path {}): recursive read-only needs a read-only "
                              "mount",
                              dst, m.host_path()));
    if (m.propagation() != runtime::v1::PROPAGATION_PRIVATE)
      return fail(
          error_kind::invalid_argument,
          fmt::format("mount on {} (host path {}): recursive read-only needs propagation "
                      "PROPAGATION_PRIVATE, not {}",
                      dst, m.host_path(), runtime::v1::MountPropagation_Name(m.propagation())));
    // Not advertised in RuntimeHandlerFeatures then, so kubelet does not ask.
    if (!sys::kernel_has_mount_setattr())
      return fail(error_kind::invalid_argument,
                  fmt::format("mount on {} (host path {}): recursive read-only mounts need "
                              "mount_setattr (Linux 5.12), which this kernel lacks",
                              dst, m.host_path()));
  }
  return bind_request{clean_path(dst), m.host_path(), m.readonly(), m.propagation(),
                      m.recursive_read_only()};
}

result<exec::mount_spec> to_mount(const bind_request& b) {
  struct stat st {};
  if (::stat(b.host_path.c_str(), &st) != 0)
    return tl::unexpected(error::from_errno(
        errno, fmt::format("mount on {}: host path {}", b.destination, b.host_path)));
  // The kernel would follow the links anyway; resolving them here makes the
  // spec show what is mounted, as containerd does.
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(b.host_path.c_str(), nullptr),
                                                   &std::free);
  if (!real)
    return tl::unexpected(error::from_errno(
        errno, fmt::format("mount on {}: resolve host path {}", b.destination, b.host_path)));

  exec::mount_spec m{b.destination, "bind", real.get(), {"rbind"}};
  switch (b.propagation) {
    case runtime::v1::PROPAGATION_HOST_TO_CONTAINER:
      m.options.push_back("rslave");
      break;
    case runtime::v1::PROPAGATION_BIDIRECTIONAL:
      m.options.push_back("rshared");
      break;
    default:
      m.options.push_back("rprivate");
      break;
  }
  m.options.push_back(b.readonly ? "ro" : "rw");
  // "ro" alone leaves the submounts of the rbind writable, as under runc
  // (and critest's non-recursive spec expects).
  if (b.recursive_readonly) m.options.push_back("rro");
  return m;
}

}  // namespace

std::string clean_path(std::string_view path) {
  const bool absolute = !path.empty() && path[0] == '/';
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part.empty() || part == ".") {
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!absolute)
        parts.push_back(part);
    } else {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    if (absolute || k > 0) out.push_back('/');
    out.append(parts[k].data(), parts[k].size());
  }
  if (out.empty()) out.push_back(absolute ? '/' : '.');
  return out;
}

std::vector<exec::mount_spec> default_mounts(bool privileged) {
  std::vector<exec::mount_spec> m = {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", privileged ? "rw" : "ro"}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", privileged ? "rw" : "ro"}},
  };
  return m;
}

std::vector<exec::cgroup_hierarchy_spec> cgroup_tree(const std::vector<exec::cgroups::cgroup_mount>& mounts) {
  std::vector<exec::cgroup_hierarchy_spec> out;
  const bool pure_v2 = mounts.size() == 1 && mounts[0].unified;
  for (const auto& m : mounts) {
    exec::cgroup_hierarchy_spec h;
    h.type = m.unified ? "cgroup2" : "cgroup";
    if (!pure_v2) {
      auto slash = m.mount_point.rfind('/');
      h.name = slash == std::string::npos ? m.mount_point : m.mount_point.substr(slash + 1);
    }
    for (const auto& c : m.controllers) {
      if (!h.options.empty()) h.options += ',';
      h.options += c;
    }
    // A named hierarchy ("name=systemd") is mounted without controllers.
    if (!m.unified && h.options.rfind("name=", 0) == 0) h.options = "none," + h.options;
    if (!m.unified) {
      h.mount_point = m.mount_point;
      h.root = m.root;
    }
    out.push_back(std::move(h));
  }
  return out;
}

result<std::vector<exec::mount_spec>> container_mounts(const runtime::v1::ContainerConfig& config,
                                                       const pod_paths& pod, bool readonly_rootfs,
                                                       bool privileged) {
  std::vector<bind_request> binds;
  std::set<std::string> requested;
  for (const auto& m : config.mounts()) {
    auto b = from_cri(m);
    if (!b) return tl::unexpected(b.error());
    requested.insert(b->destination);
    binds.push_back(std::move(*b));
  }

  // The pod's files, after the request's so that the stable sort keeps a
  // request's mount first among equals (containerd appends them the same way).
  const std::pair<const char*, const std::string*> pod_files[] = {
      {"/etc/hostname", &pod.hostname},
      {"/etc/hosts", &pod.hosts},
      {"/etc/resolv.conf", &pod.resolv_conf},
  };
  for (const auto& [dst, host] : pod_files) {
    if (host->empty() || requested.count(dst)) continue;
    binds.push_back({dst, *host, readonly_rootfs, runtime::v1::PROPAGATION_PRIVATE});
  }
  std::stable_sort(binds.begin(), binds.end(), [](const bind_request& a, const bind_request& b) {
    return depth(a.destination) < depth(b.destination);
  });

  std::vector<exec::mount_spec> out;
  const bool dev_requested = requested.count("/dev") > 0;
  const bool sys_requested = requested.count("/sys") > 0;
  for (auto& m : default_mounts(privileged)) {
    if (requested.count(m.destination)) continue;
    if (dev_requested && m.destination.rfind("/dev/", 0) == 0) continue;
    if (sys_requested && m.destination.rfind("/sys/", 0) == 0) continue;
    out.push_back(std::move(m));
  }
  for (const auto& b : binds) {
    auto m = to_mount(b);
    if (!m) return tl::unexpected(m.error());
    out.push_back(std::move(*m));
  }
  return out;
}

}  // namespace ringcri::cri::spec
