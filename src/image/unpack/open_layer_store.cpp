// Which layer store a node uses (layer_store.hpp).

#include <fmt/format.h>

#include "image/layer_store.hpp"
#include "image/unpack/dir_layer_store.hpp"
#include "image/unpack/erofs_layer_store.hpp"

namespace ringcri::image {

std::optional<layer_store_kind> parse_layer_store_kind(std::string_view text) {
  if (text == "auto") return layer_store_kind::automatic;
  if (text == "dir") return layer_store_kind::dir;
  if (text == "erofs") return layer_store_kind::erofs;
  return std::nullopt;
}

std::string_view to_string(layer_store_kind kind) {
  switch (kind) {
    case layer_store_kind::automatic: return "auto";
    case layer_store_kind::dir: return "dir";
    case layer_store_kind::erofs: return "erofs";
  }
  return "?";
}

result<opened_layer_store> open_layer_store(const std::filesystem::path& root,
                                            layer_store_kind kind) {
  opened_layer_store out;
  if (kind == layer_store_kind::automatic) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec) return fail(error_kind::internal, fmt::format("mkdir {}: {}", root.string(), ec.message()));
    // A node that has kept its layers as directories so far (an upgrade)
    // goes on with them: the images it holds stay usable.
    const bool has_dir_layers = !std::filesystem::exists(root / "erofs", ec) &&
                                !std::filesystem::is_empty(root / "layers" / "sha256", ec) && !ec;
    if (has_dir_layers) {
      kind = layer_store_kind::dir;
      out.why = "the node's layers are directories already";
    } else if (auto probe = erofs_layer_store::supported(root); probe) {
      kind = layer_store_kind::erofs;
      out.why = "the kernel mounts EROFS images from files";
    } else {
      kind = layer_store_kind::dir;
      out.why = fmt::format("no EROFS image mounts here: {}", probe.error().message());
    }
  }
  out.kind = kind;
  if (kind == layer_store_kind::erofs) {
    auto store = erofs_layer_store::open(root);
    if (!store) return tl::unexpected(std::move(store.error()));
    out.store = std::move(*store);
  } else {
    auto store = dir_layer_store::open(root);
    if (!store) return tl::unexpected(std::move(store.error()));
    out.store = std::move(*store);
  }
  return out;
}

}  // namespace ringcri::image
