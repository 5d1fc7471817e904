#pragma once
// The layer store as one EROFS image file per layer, mounted read-only
// straight from the file (Linux 6.12+ mounts EROFS without a loop device):
//
//   <root>/erofs/sha256/<hex>.erofs   a committed layer's image
//   <root>/erofs/tmp/<random>         an image being written, or being removed
//   <root>/erofs/mnt/<hex>/           where the layer is mounted: its lowerdir
//
// A pull writes one file per layer, in one sequential pass as the tar
// streams (erofs_writer): no file of the layer is made on the host's file
// system, and commit() is one fsync of that file and a rename
// (RENAME_NOREPLACE), then an fsync of sha256/. path_of() mounts the
// layer on first use (once per node, shared by every container that uses
// it, kept across daemon restarts); remove() renames the image into tmp/,
// detaches the mount (an overlay that uses the layer keeps its own
// reference, so a container still running is not disturbed) and deletes
// the file. A crash leaves at worst a file in tmp/ or a mount of a layer
// that is gone, both of which open() clears. <root>/erofs is 0700.

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "base/unique_fd.hpp"
#include "image/layer_store.hpp"

namespace ringcri::image {

class erofs_layer_store final : public layer_store {
 public:
  // Creates <root>/erofs/{sha256,tmp,mnt} as needed, empties tmp/ and
  // unmounts what mnt/ holds of layers no longer in the store: call it
  // once at start-up, before any writer exists.
  static result<std::unique_ptr<erofs_layer_store>> open(const std::filesystem::path& root);

  // Whether this kernel mounts an EROFS image from a file: writes an
  // empty image under `scratch_dir` and mounts it (detached, never
  // attached). The reason when not.
  static result<void> supported(const std::filesystem::path& scratch_dir);

  result<bool> has(const digest& diff_id) override;
  result<std::unique_ptr<layer_writer>> begin(const digest& diff_id) override;
  result<void> commit(std::unique_ptr<layer_writer> writer) override;
  // Mounts the layer if it is not mounted yet.
  result<std::filesystem::path> path_of(const digest& diff_id) override;
  result<void> remove(const digest& diff_id) override;
  result<std::vector<digest>> list() override;
  // An image file is one inode; its bytes are what it allocates.
  result<layer_usage> usage() override;
  const std::filesystem::path& dir() const override { return dir_; }

  // Deletes a tmp file (what an aborted writer calls).
  void discard(const std::string& tmp_name);

 private:
  erofs_layer_store(std::filesystem::path dir, unique_fd sha256_fd, unique_fd tmp_fd,
                    unique_fd mnt_fd);
  result<void> unmount(const std::string& hex);

  std::filesystem::path dir_;  // <root>/erofs
  unique_fd sha256_fd_;
  unique_fd tmp_fd_;
  unique_fd mnt_fd_;
  // Mounting and unmounting, one at a time: two containers of one image
  // created at once mount its layers once.
  std::mutex mount_mutex_;
};

}  // namespace ringcri::image
