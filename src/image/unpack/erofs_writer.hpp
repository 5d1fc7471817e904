#pragma once
// Writes one layer's tar entries as one EROFS image file, in one pass, as
// the tar_visitor of a tar_reader. No file of the layer is made on the
// host: file data goes into the image as it arrives, everything else is
// kept in memory as a tree and written by finish().
//
// What the image holds is what tar_extractor would leave in a directory
// (see tar_extractor.hpp), with the same path rules and the same
// refusals: names are cleaned with clean_entry_path; a name that is
// absolute or climbs out, a parent that leads out through a symlink
// (absolute target, or ".." above the root), a hard link whose target is
// outside or not in the layer: INVALID_ARGUMENT naming the entry, as
// openat2(RESOLVE_BENEATH) makes them for the extractor. Symlinks that
// stay inside are followed for parents (lib -> usr/lib, then lib/x is
// usr/lib/x); the last component is never followed. Directories the
// archive never lists are made on demand, 0755 and root's (or the
// directory's group where it is setgid, as mkdir does), with the build
// time as mtime; a listed one keeps its last listing's metadata, its
// xattrs added to what it had. An entry replaces one of another type (a
// directory with all it holds); a file replaces a file (a hard link to
// the old one keeps the old). Whiteouts in overlayfs form: "d/.wh.x" is a
// 0:0 char device "d/x", "d/.wh..wh..opq" trusted.overlay.opaque=y on d,
// other ".wh..wh." names are skipped; "trusted.overlay.*" xattrs in the
// archive other than opaque are dropped. An xattr a file system would
// refuse is refused the same way (no known prefix, user.* on anything but
// files and directories, a malformed capability or POSIX ACL), and a
// POSIX access ACL moves the mode's permission bits as setting it does.
//
// The image (4 KiB blocks, no compression, 64-byte inodes everywhere):
//   block 0            the superblock at byte 1024
//   blocks 1..         file data, each file in whole blocks from its
//                      start (flat plain layout), in archive order
//   meta_blkaddr..     the inodes, breadth first from the root (nid 0),
//                      each with its xattrs inline after it and, for
//                      directories and symlinks, the last partial block
//                      of their content (flat inline layout); a record
//                      never crosses a block boundary unless it alone is
//                      larger than a block
//   then               the whole blocks of directories and symlinks whose
//                      content does not fit next to their inode
// Hard links are one inode with several directory entries.
//
// Memory: the tree's metadata, and a 1 MiB write buffer; file data is
// never held beyond that buffer.

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "image/unpack/layer_sink.hpp"
#include "image/unpack/tar_reader.hpp"

namespace ringcri::image {

class erofs_writer final : public layer_sink {
 public:
  // `image_fd`: an empty regular file opened for writing (borrowed; the
  // caller syncs and renames it). The image is valid once finish() has
  // returned.
  explicit erofs_writer(int image_fd);
  ~erofs_writer() override;
  erofs_writer(const erofs_writer&) = delete;
  erofs_writer& operator=(const erofs_writer&) = delete;

  result<void> on_entry(const tar_entry& entry) override;
  result<void> on_data(std::span<const std::byte> piece) override;
  result<void> on_entry_end() override;

  // After the last entry: writes the metadata after the data, then the
  // superblock. Once only; nothing more is taken after it.
  result<void> finish() override;

  const extract_counts& counts() const override { return counts_; }
  int fs_fd() const override { return image_fd_; }

 private:
  struct node;
  struct walk;

  // The image, written front to back through one buffer.
  class output {
   public:
    output(int fd, std::uint64_t offset);
    result<void> append(std::span<const std::byte> bytes);
    result<void> append_zeros(std::uint64_t count);
    result<void> pad_to(std::uint64_t offset);  // zeros up to `offset`
    result<void> flush();
    std::uint64_t offset() const { return flushed_ + buffer_.size(); }

   private:
    void start_writeback();

    int fd_;
    std::uint64_t flushed_;  // where buffer_[0] goes
    std::uint64_t writeback_from_ = 0;  // bytes before this: writeback started
    std::vector<std::byte> buffer_;
  };

  node* create(node* dir, std::string_view name, std::uint32_t mode);
  node* make_directory(node* parent, std::string_view name);
  void chmod(node& n, std::uint32_t perms);
  void unlink(node* dir, std::string_view name);
  walk resolve(node* from, std::string_view path, int& links_left, bool follow_last);
  result<node*> parent_dir(std::string_view parent, const std::string& entry_path);

  result<void> regular(node* dir, const std::string& name, const tar_entry& e);
  result<void> directory(node* dir, const std::string& name, const tar_entry& e);
  result<void> symlink(node* dir, const std::string& name, const tar_entry& e);
  result<void> hard_link(node* dir, const std::string& name, const tar_entry& e);
  result<void> special(node* dir, const std::string& name, const tar_entry& e);
  result<void> whiteout(const std::string& clean, const tar_entry& e);
  result<void> set_metadata(node& n, const tar_entry& e);
  result<void> set_xattr(node& n, const std::string& name, const std::string& value,
                         const std::string& entry_path);
  result<void> end_file();

  int image_fd_;
  timespec build_time_{};
  std::vector<std::unique_ptr<node>> nodes_;  // every node made, also those unlinked since
  node* root_ = nullptr;
  output out_;
  node* file_ = nullptr;  // the regular file whose data is arriving
  bool finished_ = false;
  extract_counts counts_;
};

}  // namespace ringcri::image
