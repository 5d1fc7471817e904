// Removing a pod's state dir (see remove_pod_dir in namespaces.hpp):
// without ever deleting through a mount that is still there.

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "base/sys/remove_tree.hpp"
#include "base/unique_fd.hpp"
#include "exec/sandbox/namespaces.hpp"

namespace ringcri::exec::sandbox {

namespace {

namespace fs = std::filesystem;

// Undoes mountinfo's octal escapes (\040 for a space, ...).
std::string unescape_mount_point(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The first mount point at or under `dir` in this process's mount table.
result<std::string> mount_under(const fs::path& dir) {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) return fail_errno(errno, "read /proc/self/mountinfo");
  const std::string base = dir.string();
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    if (!(fields >> id >> parent >> dev >> root >> mount_point)) continue;
    std::string mp = unescape_mount_point(mount_point);
    if (mp == base || (mp.size() > base.size() && mp.compare(0, base.size(), base) == 0 &&
                       mp[base.size()] == '/'))
      return mp;
  }
  return std::string();
}

}  // namespace

result<void> remove_pod_dir(const fs::path& pod_dir) {
  auto context = [&](error e) {
    return tl::unexpected<error>(
        std::move(e).context(fmt::format("remove pod dir {}", pod_dir.string())));
  };
  if (pod_dir.empty() || !pod_dir.is_absolute() || pod_dir == pod_dir.root_path())
    return fail(error_kind::invalid_argument,
                fmt::format("pod dir \"{}\" is not an absolute path below /", pod_dir.string()));
  if (auto r = release_namespaces(pod_dir); !r) return context(r.error());

  std::error_code ec;
  fs::path dir = fs::canonical(pod_dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return {};
  if (ec) return context(error::from_error_code(ec, fmt::format("resolve {}", pod_dir.string())));
  if (dir == dir.root_path())
    return fail(error_kind::invalid_argument,
                fmt::format("pod dir \"{}\" resolves to /", pod_dir.string()));

  // Checked first so that nothing is deleted when a mount is found.
  auto mounted = mount_under(dir);
  if (!mounted) return context(mounted.error());
  if (!mounted->empty())
    return context(
        error(error_kind::failed_precondition, fmt::format("{} is still mounted", *mounted)));

  unique_fd parent(::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent)
    return context(error::from_errno(errno, fmt::format("open {}", dir.parent_path().string())));
  // A mount made since the check stops the removal there with EBUSY:
  // remove_tree never goes through a mount point.
  if (auto r = sys::remove_tree(parent.get(), dir.filename().string()); !r)
    return context(r.error());
  return {};
}

}  // namespace ringcri::exec::sandbox
