#include "exec/users/rootfs_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <climits>
#include <deque>

#include "base/unique_fd.hpp"

namespace ringcri::exec {

namespace {

// The kernel's own limit on symlinks followed in one lookup.
constexpr int max_symlinks = 40;
// /etc/passwd and /etc/group are small; anything this large is not one.
constexpr off_t max_file_size = 16 << 20;

void append_components(std::deque<std::string>& out, std::string_view path, bool front) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (!part.empty() && part != ".") parts.emplace_back(part);
    i = j + 1;
  }
  if (front)
    out.insert(out.begin(), parts.begin(), parts.end());
  else
    out.insert(out.end(), parts.begin(), parts.end());
}

bool is_whiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

bool is_opaque(const std::string& dir) {
  char value[2];
  ssize_t n = ::lgetxattr(dir.c_str(), "trusted.overlay.opaque", value, sizeof value);
  return n == 1 && value[0] == 'y';
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += '/';
    out += n;
  }
  return out;
}

result<std::string> read_regular_file(const std::string& host_path, std::string_view shown) {
  unique_fd fd(::open(host_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!fd) return fail_errno(errno, fmt::format("open {} ({})", shown, host_path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail_errno(errno, fmt::format("stat {}", host_path));
  if (st.st_size > max_file_size)
    return fail(error_kind::invalid_argument,
                fmt::format("{} ({}) is {} bytes, more than {} allowed", shown, host_path,
                            st.st_size, max_file_size));
  std::string content;
  content.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  for (;;) {
    if (done == content.size()) content.resize(content.size() + 4096);  // grew since fstat
    ssize_t n = ::read(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, fmt::format("read {} ({})", shown, host_path));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
    if (done > static_cast<std::size_t>(max_file_size))
      return fail(error_kind::invalid_argument,
                  fmt::format("{} ({}) is too large", shown, host_path));
  }
  content.resize(done);
  return content;
}

}  // namespace

result<std::string> read_rootfs_file(const std::vector<std::string>& layers_top_first,
                                     std::string_view path_in_rootfs) {
  auto not_found = [&](std::string_view why) {
    return fail(error_kind::not_found,
                fmt::format("{}: {} in the image's layers", path_in_rootfs, why));
  };

  std::deque<std::string> pending;
  append_components(pending, path_in_rootfs, false);
  if (pending.empty())
    return fail(error_kind::invalid_argument, fmt::format("{}: is a directory", path_in_rootfs));

  // The directories walked so far, and for each depth the layers (indexes,
  // top first) in which that directory exists and is visible: the merged
  // directory overlayfs would show.
  std::vector<std::string> names;
  std::vector<std::vector<std::size_t>> visible;
  std::vector<std::size_t> all(layers_top_first.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  visible.push_back(all);
  int links = 0;

  while (!pending.empty()) {
    std::string name = std::move(pending.front());
    pending.pop_front();
    if (name == "..") {
      // Every name walked is a real directory (symlinks were replaced), so
      // going up is dropping the last one; ".." of the root is the root.
      if (!names.empty()) {
        names.pop_back();
        visible.pop_back();
      }
      continue;
    }
    const bool last = pending.empty();
    const std::string rel = join(names) + "/" + name;

    std::vector<std::size_t> dirs;  // layers where rel is a visible directory
    std::string entry_path;         // the topmost non-directory, if it wins
    struct stat entry {};
    for (std::size_t idx : visible.back()) {
      std::string host = layers_top_first[idx] + rel;
      struct stat st {};
      if (::lstat(host.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) continue;
        return fail_errno(errno, fmt::format("stat {} ({})", rel, host));
      }
      if (is_whiteout(st)) break;  // hidden in every lower layer
      if (S_ISDIR(st.st_mode)) {
        dirs.push_back(idx);
        if (is_opaque(host)) break;  // the lower layers' contents are hidden
        continue;
      }
      // A non-directory hides everything below it; below a directory it is
      // itself hidden (overlayfs shows the upper directory alone).
      if (dirs.empty()) {
        entry_path = std::move(host);
        entry = st;
      }
      break;
    }

    if (!dirs.empty()) {
      if (last) return fail(error_kind::invalid_argument, fmt::format("{}: is a directory", rel));
      names.push_back(name);
      visible.push_back(std::move(dirs));
      continue;
    }
    if (entry_path.empty()) return not_found(fmt::format("{} does not exist", rel));

    if (S_ISLNK(entry.st_mode)) {
      if (++links > max_symlinks)
        return fail(error_kind::invalid_argument,
                    fmt::format("{}: too many levels of symbolic links", path_in_rootfs));
      std::string target(static_cast<std::size_t>(PATH_MAX), '\0');
      ssize_t n = ::readlink(entry_path.c_str(), target.data(), target.size());
      if (n < 0) return fail_errno(errno, fmt::format("readlink {} ({})", rel, entry_path));
      target.resize(static_cast<std::size_t>(n));
      // The link is read as the container will read it: an absolute target
      // starts over at the rootfs's root, a relative one at the link's dir.
      if (!target.empty() && target[0] == '/') {
        names.clear();
        visible.resize(1);
      }
      append_components(pending, target, true);
      if (pending.empty())  // a link to "/"
        return fail(error_kind::invalid_argument,
                    fmt::format("{}: resolves to a directory", path_in_rootfs));
      continue;
    }
    if (!last) return not_found(fmt::format("{} is not a directory", rel));
    if (!S_ISREG(entry.st_mode))
      return fail(error_kind::invalid_argument, fmt::format("{}: not a regular file", rel));
    return read_regular_file(entry_path, rel);
  }
  // Only reached when the path ended in ".." (a directory).
  return fail(error_kind::invalid_argument, fmt::format("{}: is a directory", path_in_rootfs));
}

}  // namespace ringcri::exec
