#pragma once
// Where unpacked layers live, by diff_id (the sha256 of the uncompressed
// tar, as the image config lists them). An interface because the
// directory-per-layer store is the reference, not the end: the next
// backend writes one EROFS image per layer, so nothing here says
// "directory": a writer takes the tar's entries (its layer_sink) and a
// committed layer has a path to give overlayfs as a lowerdir.
//
// Use:
//   if (!store.has(diff_id)) {
//     auto w = store.begin(diff_id);                       // a private, empty layer
//     auto u = layer_unpacker::create(digest, size, media_type, (*w)->sink());
//     ... feed, finish, check result.diff_id == diff_id ...
//     store.commit(std::move(*w));                         // appears atomically
//   }                                                      // else ~writer aborts
//   mount overlay lowerdir=store.path_of(diff_id)...
//
// Blocking calls: worker threads only. Safe to call from several threads
// at once; two writers of the same diff_id may race, the first commit
// wins and the second is dropped (and still reports success).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "image/digest.hpp"
#include "image/unpack/layer_sink.hpp"

namespace ringcri::image {

struct layer_usage {
  std::uint64_t bytes = 0;  // disk space, as allocated (st_blocks)
  std::uint64_t inodes = 0;
};

// One layer being written. Destroying it without commit() removes what
// was written.
class layer_writer {
 public:
  virtual ~layer_writer() = default;
  virtual const digest& diff_id() const = 0;
  // What a layer_unpacker writes the tar's entries to, owned by the writer.
  virtual layer_sink& sink() = 0;
};

class layer_store {
 public:
  virtual ~layer_store() = default;

  virtual result<bool> has(const digest& diff_id) = 0;
  virtual result<std::unique_ptr<layer_writer>> begin(const digest& diff_id) = 0;
  // Makes the layer durable, then visible under its diff_id. If another
  // writer committed it first, this one is dropped. Takes any writer this
  // store's begin() made.
  virtual result<void> commit(std::unique_ptr<layer_writer> writer) = 0;
  // For overlayfs: lowerdir=path_of(top):...:path_of(bottom). NOT_FOUND if
  // the store does not have it.
  virtual result<std::filesystem::path> path_of(const digest& diff_id) = 0;
  // NOT_FOUND if absent. The caller makes sure no container uses it.
  virtual result<void> remove(const digest& diff_id) = 0;
  virtual result<std::vector<digest>> list() = 0;
  // Every committed layer (for ImageFsInfo).
  virtual result<layer_usage> usage() = 0;
  // Where the layers are kept (ImageFsInfo's mount point).
  virtual const std::filesystem::path& dir() const = 0;
};

enum class layer_store_kind {
  automatic,  // erofs where the kernel mounts an EROFS image from a file, else dir;
              // dir on a node whose layers are directories already
  dir,        // a directory per layer (dir_layer_store.hpp)
  erofs,      // an EROFS image file per layer (erofs_layer_store.hpp)
};

// "auto", "dir", "erofs" (the config's image.layer_store).
std::optional<layer_store_kind> parse_layer_store_kind(std::string_view text);
std::string_view to_string(layer_store_kind kind);

struct opened_layer_store {
  std::unique_ptr<layer_store> store;
  layer_store_kind kind = layer_store_kind::dir;  // the one opened, never automatic
  std::string why;  // for automatic: why this one
};

// The node's layer store under <root>, with what a crashed writer left
// behind swept.
result<opened_layer_store> open_layer_store(const std::filesystem::path& root,
                                            layer_store_kind kind = layer_store_kind::automatic);

}  // namespace ringcri::image
