#pragma once
// Writes tar entries beneath a layer's root directory, as the tar_visitor
// of a tar_reader.
//
// Confinement: every multi-component path is resolved by the kernel with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) on the root fd, and the
// last component is always created or changed without following it
// (O_CREAT|O_EXCL, mkdirat, symlinkat, mknodat, linkat, *at(...,
// AT_SYMLINK_NOFOLLOW)). A name that is absolute or whose ".." climbs out,
// a parent that leads out through a symlink (absolute, or ".." chains), a
// hard link whose target is outside: INVALID_ARGUMENT naming the entry,
// with nothing written outside the root. Symlinks that stay inside are
// followed for parents (a layer may hold lib -> usr/lib and lib/x).
//
// What it writes (run as root: owners, devices and trusted.* xattrs need it):
// - files with data, owner, mode (setuid/setgid kept: chown first), xattrs
//   (security.capability included, set after chown, which clears it),
//   mtime (atime = mtime);
// - directories, made on demand (0755, root) for entries whose parents the
//   archive lists later or never; an existing one is kept and its metadata
//   updated; their mtimes are set by finish(), after their contents;
// - symlinks, hard links (both ends beneath the root), char and block
//   devices, fifos;
// - an entry replacing one of another type removes the old (a directory
//   with all it holds), as tar does;
// - whiteouts in overlayfs form: "d/.wh.name" becomes a 0:0 char device
//   "d/name", "d/.wh..wh..opq" the xattr trusted.overlay.opaque=y on "d";
//   other ".wh..wh." names (aufs bookkeeping) are skipped;
// - xattrs "trusted.overlay.*" in the archive other than opaque are
//   dropped: a layer must not forge overlayfs redirects or metacopy.

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "image/unpack/layer_sink.hpp"
#include "image/unpack/tar_reader.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::image {

class tar_extractor final : public layer_sink {
 public:
  // `root_fd`: the layer's root, opened O_RDONLY | O_DIRECTORY (not O_PATH:
  // its own metadata and xattrs are set through it). Borrowed.
  explicit tar_extractor(int root_fd) : root_fd_(root_fd) {}

  result<void> on_entry(const tar_entry& entry) override;
  result<void> on_data(std::span<const std::byte> piece) override;
  result<void> on_entry_end() override;

  // After the last entry: sets directory times (which creating their
  // contents changed).
  result<void> finish() override;

  const extract_counts& counts() const override { return counts_; }
  int fs_fd() const override { return root_fd_; }

 private:
  struct metadata {
    std::uint32_t uid = 0, gid = 0, mode = 0;
    timespec mtime{};
    std::vector<std::pair<std::string, std::string>> xattrs;
  };

  result<int> parent_dir(std::string_view parent, const std::string& entry_path);
  result<unique_fd> make_parents(std::string_view parent);
  result<bool> make_room(int parent_fd, const std::string& name, bool keep_directory,
                         const std::string& entry_path);

  result<void> regular(int parent_fd, const std::string& name, const tar_entry& e);
  result<void> directory(int parent_fd, const std::string& name, const std::string& clean,
                         const tar_entry& e);
  result<void> symlink(int parent_fd, const std::string& name, const tar_entry& e);
  result<void> hard_link(int parent_fd, const std::string& name, const tar_entry& e);
  result<void> special(int parent_fd, const std::string& name, const tar_entry& e);
  result<void> whiteout(const std::string& clean, const tar_entry& e);

  result<void> set_fd_metadata(int fd, const metadata& m, const std::string& entry_path);
  result<void> set_at_metadata(int parent_fd, const std::string& name, const metadata& m,
                               bool set_mode, const std::string& entry_path);

  int root_fd_;
  // The parent directory of the last entry: archives list a directory's
  // files together, so most entries reuse it. Marked stale whenever
  // anything is removed, since that may have been (an ancestor of, or a
  // symlink leading to) it; the fd stays open until the next entry, which
  // may still be using it.
  std::string cached_parent_;
  unique_fd cached_parent_fd_;
  bool cache_stale_ = false;

  // The regular file whose data is arriving.
  unique_fd file_;
  std::string file_path_;
  metadata file_meta_;

  std::vector<std::pair<std::string, timespec>> directory_times_;
  extract_counts counts_;
};

}  // namespace ringcri::image
