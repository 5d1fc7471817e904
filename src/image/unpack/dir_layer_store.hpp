#pragma once
// The layer store as plain directories, the reference backend:
//
//   <root>/layers/sha256/<hex>/   a committed layer: its files, its root is the lowerdir
//   <root>/layers/tmp/<random>/   a layer being written, or being removed
//
// begin() makes a tmp dir; commit() syncs the file system once (syncfs)
// and renames the dir into sha256/ with RENAME_NOREPLACE, then fsyncs
// sha256/ so the rename survives a power cut. remove() renames the layer
// into tmp/ before deleting it, so it vanishes at once. A crash leaves at
// worst something in tmp/, which open() deletes. <root>/layers is 0700:
// layers hold setuid files that only containers should reach.

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "image/layer_store.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::image {

class dir_layer_store final : public layer_store {
 public:
  // Creates <root>/layers/{sha256,tmp} as needed and empties tmp/: call it
  // once at start-up, before any writer exists.
  static result<std::unique_ptr<dir_layer_store>> open(const std::filesystem::path& root);

  result<bool> has(const digest& diff_id) override;
  result<std::unique_ptr<layer_writer>> begin(const digest& diff_id) override;
  result<void> commit(std::unique_ptr<layer_writer> writer) override;
  result<std::filesystem::path> path_of(const digest& diff_id) override;
  result<void> remove(const digest& diff_id) override;
  result<std::vector<digest>> list() override;
  result<layer_usage> usage() override;
  const std::filesystem::path& dir() const override { return layers_; }

  // Deletes a tmp dir (what an aborted writer calls).
  void discard(const std::string& tmp_name);

 private:
  dir_layer_store(std::filesystem::path layers, unique_fd sha256_fd, unique_fd tmp_fd);
  result<layer_usage> usage_of(const digest& diff_id);

  std::filesystem::path layers_;  // <root>/layers
  unique_fd sha256_fd_;
  unique_fd tmp_fd_;
  // Committed layers never change, so each one's usage is walked once.
  std::mutex usage_mutex_;
  std::map<std::string, layer_usage> usage_cache_;
};

}  // namespace ringcri::image
