#include "exec/sandbox/user_namespace_probe.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>

#include <cstring>

#include "base/sys/user_namespace.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::exec::sandbox {

user_namespace_support probe_user_namespaces(const std::filesystem::path& root_dir) {
  const std::vector<sys::id_mapping> probe_map{{0, 1000, 65536}};
  auto userns = sys::make_user_namespace(probe_map, probe_map);
  if (!userns) return {false, userns.error().message()};

  // The root dir itself, or its nearest existing parent (same file system
  // as what will be made there).
  std::filesystem::path dir = root_dir;
  std::error_code ec;
  while (!dir.empty() && dir != dir.root_path() && !std::filesystem::exists(dir, ec))
    dir = dir.parent_path();
  if (auto tree = sys::open_idmapped_tree(dir.c_str(), userns->get(), false); !tree)
    return {false, tree.error().message()};

  unique_fd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
  if (!fs) return {false, fmt::format("fsopen tmpfs: {}", std::strerror(errno))};
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    return {false, fmt::format("create a tmpfs: {}", std::strerror(errno))};
  unique_fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt) return {false, fmt::format("fsmount a tmpfs: {}", std::strerror(errno))};
  struct mount_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<std::uint64_t>(userns->get());
  if (::mount_setattr(mnt.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    return {false, fmt::format("idmap a tmpfs mount: {}", std::strerror(errno))};
  return {true, ""};
}

}  // namespace ringcri::exec::sandbox
