#include "cri/spec/devices.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>

namespace ringcri::cri::spec {

namespace {

namespace fs = std::filesystem;

exec::device_spec from_stat(std::string path, const struct stat& st) {
  exec::device_spec d;
  d.path = std::move(path);
  d.type = S_ISBLK(st.st_mode) ? 'b' : 'c';
  d.major = ::major(st.st_rdev);
  d.minor = ::minor(st.st_rdev);
  d.mode = st.st_mode & 07777;
  d.uid = st.st_uid;
  d.gid = st.st_gid;
  return d;
}

// Directories under a host /dev that hold no devices of the container's
// (the same ones containerd skips). Its console and ptmx are skipped too:
// the container's /dev/ptmx is a link into its own devpts.
bool skipped_dir(const std::string& name) {
  return name == "pts" || name == "shm" || name == "fd" || name == "mqueue" || name == ".lxc" ||
         name == ".lxd-mounts" || name == ".udev";
}

result<void> devices_under(const std::string& host_dir, const std::string& container_dir,
                           std::vector<exec::device_spec>& out) {
  std::error_code ec;
  fs::directory_iterator it(host_dir, ec);
  if (ec) return tl::unexpected(error::from_error_code(ec, fmt::format("device dir {}", host_dir)));
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    const std::string host = it->path().string();
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) continue;  // gone meanwhile
    if (S_ISDIR(st.st_mode)) {
      if (skipped_dir(name)) continue;
      auto r = devices_under(host, container_dir + "/" + name, out);
      if (!r) return r;
    } else if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && name != "console" &&
               name != "ptmx") {
      out.push_back(from_stat(container_dir + "/" + name, st));
    }
  }
  if (ec) return tl::unexpected(error::from_error_code(ec, fmt::format("device dir {}", host_dir)));
  return {};
}

}  // namespace

std::vector<exec::device_spec> default_devices() {
  auto c = [](const char* path, std::uint32_t major, std::uint32_t minor) {
    exec::device_spec d;
    d.path = path;
    d.type = 'c';
    d.major = major;
    d.minor = minor;
    d.mode = 0666;
    return d;
  };
  return {c("/dev/null", 1, 3),   c("/dev/zero", 1, 5),    c("/dev/full", 1, 7),
          c("/dev/random", 1, 8), c("/dev/urandom", 1, 9), c("/dev/tty", 5, 0)};
}

result<std::vector<exec::device_spec>> container_devices(
    const runtime::v1::ContainerConfig& config, bool privileged) {
  std::vector<exec::device_spec> requested;
  // A privileged container sees every device of the node, as under
  // containerd (oci.WithHostDevices); the request's own come after.
  if (privileged) {
    auto host = devices_under("/dev", "/dev", requested);
    if (!host) return tl::unexpected(host.error());
  }
  for (const auto& d : config.devices()) {
    const std::string& host = d.host_path();
    std::string dst = d.container_path().empty() ? host : d.container_path();
    if (host.empty())
      return fail(error_kind::invalid_argument,
                  fmt::format("device {}: no host path", d.container_path()));
    if (dst.empty() || dst[0] != '/')
      return fail(error_kind::invalid_argument,
                  fmt::format("device {}: container path \"{}\" is not absolute", host, dst));
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0)
      return tl::unexpected(error::from_errno(errno, fmt::format("device {}", host)));
    if (S_ISDIR(st.st_mode)) {
      auto r = devices_under(host, dst, requested);
      if (!r) return tl::unexpected(r.error());
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      requested.push_back(from_stat(dst, st));
    } else {
      return fail(error_kind::invalid_argument, fmt::format("device {}: not a device node", host));
    }
  }

  std::vector<exec::device_spec> out;
  for (auto& d : default_devices()) {
    bool replaced = std::any_of(requested.begin(), requested.end(),
                                [&](const exec::device_spec& r) { return r.path == d.path; });
    if (!replaced) out.push_back(std::move(d));
  }
  out.insert(out.end(), std::make_move_iterator(requested.begin()),
             std::make_move_iterator(requested.end()));
  return out;
}

std::vector<exec::cgroups::device_rule> device_rules(const std::vector<exec::device_spec>& devices) {
  auto rules = exec::cgroups::default_device_rules();
  for (const auto& d : devices)
    rules.push_back({d.type, static_cast<std::int64_t>(d.major), static_cast<std::int64_t>(d.minor), "rwm"});
  return rules;
}

}  // namespace ringcri::cri::spec
