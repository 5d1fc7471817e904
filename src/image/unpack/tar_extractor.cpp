#include "image/unpack/tar_extractor.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_set>

#include "base/sys/open_confined.hpp"
#include "base/sys/remove_tree.hpp"
#include "image/unpack/entry_path.hpp"

namespace ringcri::image {

namespace {


// An error about one entry: "entry "a/b": <step>: <strerror>", with the
// escapes the kernel refused spelled out as what they are.
tl::unexpected<error> entry_error(const std::string& path, std::string_view step, int e) {
  if (e == EXDEV)
    return tl::unexpected(error(error_kind::invalid_argument,
                                fmt::format("entry \"{}\": {}: resolves outside the layer root "
                                            "(through a symlink or \"..\")",
                                            path, step),
                                e));
  return tl::unexpected(error::from_errno(e, fmt::format("entry \"{}\": {}", path, step)));
}

// The same for an error that already says what failed ("open a/b: ...").
tl::unexpected<error> entry_error(const std::string& path, const error& cause) {
  if (cause.sys_errno() == EXDEV)
    return tl::unexpected(error(error_kind::invalid_argument,
                                fmt::format("entry \"{}\": resolves outside the layer root "
                                            "(through a symlink or \"..\")",
                                            path),
                                EXDEV));
  return tl::unexpected(error(cause).context(fmt::format("entry \"{}\"", path)));
}

// lsetxattr has no *at form: name the entry through the already confined
// parent fd. The magic link is only the first component, which is ours.
std::string proc_path(int parent_fd, const std::string& name) {
  return fmt::format("/proc/self/fd/{}/{}", parent_fd, name);
}

result<void> write_all(int fd, std::span<const std::byte> bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return entry_error(path, "write", errno);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

result<void> tar_extractor::on_entry(const tar_entry& e) {
  auto clean = clean_entry_path(e.path);
  if (!clean) return tl::unexpected(clean.error());
  std::string name(name_of(*clean));

  if (name.starts_with(whiteout_prefix)) return whiteout(*clean, e);

  if (clean->empty()) {  // "." or "./": the root itself
    if (e.type != tar_entry_type::directory)
      return fail(error_kind::invalid_argument,
                  fmt::format("entry \"{}\": a {} cannot replace the layer root", e.path,
                              to_string(e.type)));
    return directory(-1, name, *clean, e);
  }

  auto parent = parent_dir(parent_of(*clean), e.path);
  if (!parent) return tl::unexpected(parent.error());
  switch (e.type) {
    case tar_entry_type::regular:
      return regular(*parent, name, e);
    case tar_entry_type::directory:
      return directory(*parent, name, *clean, e);
    case tar_entry_type::symlink:
      return symlink(*parent, name, e);
    case tar_entry_type::hard_link:
      return hard_link(*parent, name, e);
    case tar_entry_type::char_device:
    case tar_entry_type::block_device:
    case tar_entry_type::fifo:
      return special(*parent, name, e);
  }
  return {};
}

result<void> tar_extractor::on_data(std::span<const std::byte> piece) {
  if (!file_) return {};
  counts_.bytes += piece.size();
  return write_all(file_.get(), piece, file_path_);
}

result<void> tar_extractor::on_entry_end() {
  if (!file_) return {};
  unique_fd fd = std::move(file_);
  if (auto r = set_fd_metadata(fd.get(), file_meta_, file_path_); !r) return r;
  timespec times[2] = {file_meta_.mtime, file_meta_.mtime};
  if (::futimens(fd.get(), times) != 0) return entry_error(file_path_, "set times", errno);
  return {};
}

result<void> tar_extractor::finish() {
  // Last recorded, first set: a child's entry comes after its parent's,
  // so children are set before parents (setting them touches nothing
  // else). A directory listed twice gets its last entry's time.
  std::unordered_set<std::string_view> done;
  for (auto it = directory_times_.rbegin(); it != directory_times_.rend(); ++it) {
    if (!done.insert(it->first).second) continue;
    timespec times[2] = {it->second, it->second};
    int fd = root_fd_;
    unique_fd owned;
    if (!it->first.empty()) {
      auto opened = sys::open_confined(root_fd_, it->first, sys::resolve::beneath,
                                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (!opened) {
        int e = opened.error().sys_errno();
        if (e == ENOENT || e == ENOTDIR || e == ELOOP) continue;  // replaced by a later entry
        return entry_error(it->first, opened.error());
      }
      owned = std::move(*opened);
      fd = owned.get();
    }
    if (::futimens(fd, times) != 0) return entry_error(it->first, "set times", errno);
  }
  directory_times_.clear();
  return {};
}

// --- paths ------------------------------------------------------------------

result<int> tar_extractor::parent_dir(std::string_view parent, const std::string& entry_path) {
  if (parent.empty()) return root_fd_;
  if (cached_parent_fd_ && !cache_stale_ && cached_parent_ == parent)
    return cached_parent_fd_.get();
  auto fd = sys::open_confined(root_fd_, parent, sys::resolve::beneath, O_RDONLY | O_DIRECTORY);
  if (!fd && fd.error().sys_errno() == ENOENT) fd = make_parents(parent);
  if (!fd) return entry_error(entry_path, fd.error());
  cached_parent_.assign(parent);
  cached_parent_fd_ = std::move(*fd);
  cache_stale_ = false;
  return cached_parent_fd_.get();
}

// mkdir -p beneath the root, one component at a time. The caller names
// the entry in errors.
result<unique_fd> tar_extractor::make_parents(std::string_view parent) {
  unique_fd at;
  std::size_t start = 0;
  while (start <= parent.size()) {
    std::size_t end = parent.find('/', start);
    if (end == std::string_view::npos) end = parent.size();
    std::string_view prefix = parent.substr(0, end);
    std::string component(parent.substr(start, end - start));
    auto fd = sys::open_confined(root_fd_, prefix, sys::resolve::beneath, O_RDONLY | O_DIRECTORY);
    if (!fd && fd.error().sys_errno() == ENOENT) {
      int in = at ? at.get() : root_fd_;
      if (::mkdirat(in, component.c_str(), 0755) != 0 && errno != EEXIST)
        return fail_errno(errno, fmt::format("mkdir {}", prefix));
      fd = sys::open_confined(root_fd_, prefix, sys::resolve::beneath, O_RDONLY | O_DIRECTORY);
      // Made here: give it 0755 whatever the umask. If it existed after
      // all, it is a symlink to nothing.
      if (!fd && fd.error().sys_errno() == ENOENT)
        return fail(error_kind::invalid_argument,
                    fmt::format("parent {} is a dangling symlink", prefix));
      if (fd && ::fchmod(fd->get(), 0755) != 0)
        return fail_errno(errno, fmt::format("chmod {}", prefix));
    }
    if (!fd) return tl::unexpected(fd.error());
    at = std::move(*fd);
    start = end + 1;
  }
  return at;
}

// Clears the way for a new entry `name` in `parent_fd`. Returns whether an
// existing directory was kept (only when `keep_directory`).
result<bool> tar_extractor::make_room(int parent_fd, const std::string& name, bool keep_directory,
                                      const std::string& entry_path) {
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return entry_error(entry_path, "stat existing", errno);
  }
  if (S_ISDIR(st.st_mode) && keep_directory) return true;
  cache_stale_ = true;
  if (S_ISDIR(st.st_mode)) {
    if (auto r = sys::remove_tree(parent_fd, name); !r) return entry_error(entry_path, r.error());
  } else if (::unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return entry_error(entry_path, "remove existing", errno);
  }
  return false;
}

// --- entry types ------------------------------------------------------------

result<void> tar_extractor::regular(int parent_fd, const std::string& name, const tar_entry& e) {
  constexpr int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  unique_fd fd(::openat(parent_fd, name.c_str(), flags, 0600));
  if (!fd && errno == EEXIST) {
    if (auto r = make_room(parent_fd, name, false, e.path); !r) return tl::unexpected(r.error());
    fd.reset(::openat(parent_fd, name.c_str(), flags, 0600));
  }
  if (!fd) return entry_error(e.path, "create", errno);
  file_ = std::move(fd);
  file_path_ = e.path;
  file_meta_ = metadata{e.uid, e.gid, e.mode,
                        timespec{e.mtime_sec, static_cast<long>(e.mtime_nsec)}, e.xattrs};
  ++counts_.files;
  return {};
}

result<void> tar_extractor::directory(int parent_fd, const std::string& name,
                                      const std::string& clean, const tar_entry& e) {
  unique_fd fd;
  if (clean.empty()) {
    fd.reset(::dup(root_fd_));  // the root: its metadata, through our own fd
    if (!fd) return entry_error(e.path, "dup root", errno);
  } else {
    if (::mkdirat(parent_fd, name.c_str(), 0700) != 0) {
      if (errno != EEXIST) return entry_error(e.path, "mkdir", errno);
      auto kept = make_room(parent_fd, name, true, e.path);
      if (!kept) return tl::unexpected(kept.error());
      if (!*kept && ::mkdirat(parent_fd, name.c_str(), 0700) != 0)
        return entry_error(e.path, "mkdir", errno);
    }
    fd.reset(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return entry_error(e.path, "open directory", errno);
  }
  metadata m{e.uid, e.gid, e.mode, {}, e.xattrs};
  if (auto r = set_fd_metadata(fd.get(), m, e.path); !r) return r;
  directory_times_.emplace_back(clean, timespec{e.mtime_sec, static_cast<long>(e.mtime_nsec)});
  ++counts_.directories;
  return {};
}

result<void> tar_extractor::symlink(int parent_fd, const std::string& name, const tar_entry& e) {
  if (::symlinkat(e.link_target.c_str(), parent_fd, name.c_str()) != 0) {
    if (errno != EEXIST) return entry_error(e.path, "symlink", errno);
    if (auto r = make_room(parent_fd, name, false, e.path); !r) return tl::unexpected(r.error());
    if (::symlinkat(e.link_target.c_str(), parent_fd, name.c_str()) != 0)
      return entry_error(e.path, "symlink", errno);
  }
  metadata m{e.uid, e.gid, e.mode, timespec{e.mtime_sec, static_cast<long>(e.mtime_nsec)},
             e.xattrs};
  if (auto r = set_at_metadata(parent_fd, name, m, false, e.path); !r) return r;
  ++counts_.symlinks;
  return {};
}

result<void> tar_extractor::hard_link(int parent_fd, const std::string& name, const tar_entry& e) {
  auto target = clean_entry_path(e.link_target);
  if (!target) {
    // "entry "/etc/passwd": absolute path" -> "... hard link target "/etc/passwd": ..."
    std::string_view why = target.error().message();
    if (why.starts_with("entry ")) why.remove_prefix(6);
    return fail(error_kind::invalid_argument,
                fmt::format("entry \"{}\": hard link target {}", e.path, why));
  }
  if (target->empty())
    return fail(error_kind::invalid_argument,
                fmt::format("entry \"{}\": hard link to the layer root", e.path));
  // The target, not followed if it is a symlink (a hard link to a symlink
  // links the symlink), its parents confined like every other path.
  auto from = sys::open_confined(root_fd_, *target, sys::resolve::beneath, O_PATH | O_NOFOLLOW);
  if (!from) {
    if (from.error().sys_errno() == ENOENT)
      return fail(error_kind::invalid_argument,
                  fmt::format("entry \"{}\": hard link target \"{}\" is not in the layer", e.path,
                              e.link_target));
    return entry_error(e.path, from.error());
  }
  struct stat target_st {};
  if (::fstat(from->get(), &target_st) != 0) return entry_error(e.path, "stat target", errno);
  if (S_ISDIR(target_st.st_mode))
    return fail(error_kind::invalid_argument,
                fmt::format("entry \"{}\": hard link to directory \"{}\"", e.path, e.link_target));

  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (st.st_dev == target_st.st_dev && st.st_ino == target_st.st_ino) return {};  // itself
    if (auto r = make_room(parent_fd, name, false, e.path); !r) return tl::unexpected(r.error());
  }
  if (::linkat(from->get(), "", parent_fd, name.c_str(), AT_EMPTY_PATH) != 0) {
    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; without it go through the
    // fd's /proc link, which names the same inode.
    if (errno != ENOENT && errno != EPERM) return entry_error(e.path, "link", errno);
    std::string via = fmt::format("/proc/self/fd/{}", from->get());
    if (::linkat(AT_FDCWD, via.c_str(), parent_fd, name.c_str(), AT_SYMLINK_FOLLOW) != 0)
      return entry_error(e.path, "link", errno);
  }
  ++counts_.hard_links;
  return {};
}

result<void> tar_extractor::special(int parent_fd, const std::string& name, const tar_entry& e) {
  mode_t type = e.type == tar_entry_type::char_device    ? S_IFCHR
                : e.type == tar_entry_type::block_device ? S_IFBLK
                                                         : S_IFIFO;
  dev_t dev = type == S_IFIFO ? 0 : makedev(e.dev_major, e.dev_minor);
  if (::mknodat(parent_fd, name.c_str(), type | 0600, dev) != 0) {
    if (errno != EEXIST) return entry_error(e.path, "mknod", errno);
    if (auto r = make_room(parent_fd, name, false, e.path); !r) return tl::unexpected(r.error());
    if (::mknodat(parent_fd, name.c_str(), type | 0600, dev) != 0)
      return entry_error(e.path, "mknod", errno);
  }
  metadata m{e.uid, e.gid, e.mode, timespec{e.mtime_sec, static_cast<long>(e.mtime_nsec)},
             e.xattrs};
  if (auto r = set_at_metadata(parent_fd, name, m, true, e.path); !r) return r;
  ++counts_.devices;
  return {};
}

result<void> tar_extractor::whiteout(const std::string& clean, const tar_entry& e) {
  std::string_view base = name_of(clean);
  auto parent = parent_dir(parent_of(clean), e.path);
  if (!parent) return tl::unexpected(parent.error());
  if (base == opaque_marker) {
    if (::fsetxattr(*parent, opaque_xattr.data(), "y", 1, 0) != 0)
      return entry_error(e.path, "set trusted.overlay.opaque", errno);
    ++counts_.opaque_dirs;
    return {};
  }
  if (base.starts_with(whiteout_meta_prefix)) return {};  // aufs bookkeeping: no meaning here
  std::string hidden(base.substr(whiteout_prefix.size()));
  if (hidden.empty() || hidden == "." || hidden == "..")
    return fail(error_kind::invalid_argument,
                fmt::format("entry \"{}\": whiteout of an invalid name", e.path));
  if (auto r = make_room(*parent, hidden, false, e.path); !r) return tl::unexpected(r.error());
  if (::mknodat(*parent, hidden.c_str(), S_IFCHR, makedev(0, 0)) != 0)
    return entry_error(e.path, "mknod whiteout", errno);
  if (::fchownat(*parent, hidden.c_str(), e.uid, e.gid, AT_SYMLINK_NOFOLLOW) != 0)
    return entry_error(e.path, "chown whiteout", errno);
  timespec times[2] = {{e.mtime_sec, static_cast<long>(e.mtime_nsec)},
                       {e.mtime_sec, static_cast<long>(e.mtime_nsec)}};
  if (::utimensat(*parent, hidden.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    return entry_error(e.path, "set whiteout times", errno);
  ++counts_.whiteouts;
  return {};
}

// --- metadata ---------------------------------------------------------------

// Owner first: chown clears setuid/setgid and security.capability, so the
// mode and the xattrs come after it.
result<void> tar_extractor::set_fd_metadata(int fd, const metadata& m,
                                            const std::string& entry_path) {
  if (::fchown(fd, m.uid, m.gid) != 0) return entry_error(entry_path, "chown", errno);
  if (::fchmod(fd, m.mode) != 0) return entry_error(entry_path, "chmod", errno);
  for (const auto& [name, value] : m.xattrs) {
    if (!keep_xattr(name)) continue;
    if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) != 0)
      return entry_error(entry_path, fmt::format("set xattr {}", name), errno);
  }
  return {};
}

result<void> tar_extractor::set_at_metadata(int parent_fd, const std::string& name,
                                            const metadata& m, bool set_mode,
                                            const std::string& entry_path) {
  const char* n = name.c_str();
  if (::fchownat(parent_fd, n, m.uid, m.gid, AT_SYMLINK_NOFOLLOW) != 0)
    return entry_error(entry_path, "chown", errno);
  // A device or fifo this extractor just made; symlinks have no mode.
  if (set_mode && ::fchmodat(parent_fd, n, m.mode, 0) != 0)
    return entry_error(entry_path, "chmod", errno);
  if (!m.xattrs.empty()) {
    std::string path = proc_path(parent_fd, name);
    for (const auto& [xname, value] : m.xattrs) {
      if (!keep_xattr(xname)) continue;
      if (::lsetxattr(path.c_str(), xname.c_str(), value.data(), value.size(), 0) != 0)
        return entry_error(entry_path, fmt::format("set xattr {}", xname), errno);
    }
  }
  timespec times[2] = {m.mtime, m.mtime};
  if (::utimensat(parent_fd, n, times, AT_SYMLINK_NOFOLLOW) != 0)
    return entry_error(entry_path, "set times", errno);
  return {};
}

}  // namespace ringcri::image
