// Masked and readonly paths, made after pivot_root so that the paths are
// the container's (/proc/kcore is its own procfs, not the host's).

#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "exec/spawn/mounts.hpp"

namespace ringcri::exec::spawn_detail {

result<void> mask_paths(const std::vector<std::string>& paths) {
  for (const std::string& p : paths) {
    struct stat st {};
    if (::stat(p.c_str(), &st) < 0) {
      if (errno == ENOENT) continue;
      return fail_errno(errno, fmt::format("mask \"{}\"", p));
    }
    int rc = S_ISDIR(st.st_mode) ? ::mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, nullptr)
                                 : ::mount("/dev/null", p.c_str(), nullptr, MS_BIND, nullptr);
    if (rc < 0) return fail_errno(errno, fmt::format("mask \"{}\"", p));
  }
  return {};
}

result<void> make_paths_readonly(const std::vector<std::string>& paths) {
  for (const std::string& p : paths) {
    if (::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;
      return fail_errno(errno, fmt::format("bind readonly path \"{}\"", p));
    }
    unsigned long flags = current_mount_flags(p.c_str()) | MS_RDONLY;
    if (::mount(nullptr, p.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_REC | flags, nullptr) < 0)
      return fail_errno(errno, fmt::format("remount \"{}\" readonly", p));
  }
  return {};
}

}  // namespace ringcri::exec::spawn_detail
