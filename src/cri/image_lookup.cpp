#include "cri/image_lookup.hpp"

#include <filesystem>

#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include "image/source/reference.hpp"
#include "image/digest.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::cri {

std::optional<records::image> find_image(const context& ctx, std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (auto by_id = ctx.images.find(text)) return by_id;
  auto ref = image::parse_reference(text);
  if (!ref) return std::nullopt;
  if (!ref->digest.empty()) return ctx.images.find(ref->name() + "@" + ref->digest);
  return ctx.images.find(ref->name() + ":" + ref->tag);
}

std::string image_key(const std::string& id) {
  auto colon = id.find(':');
  return colon == std::string::npos ? id : id.substr(colon + 1);
}

reactor::task<result<void>> forget_images(context& ctx, std::vector<records::image> gone) {
  for (const auto& img : gone) {
    auto removed = co_await ctx.store.remove(images_kind, image_key(img.id()));
    if (!removed) co_return tl::unexpected(std::move(removed.error()).context("remove image record " + img.id()));
  }
  auto in_use = ctx.images.layers_in_use();
  // A container's lower layers stay while it exists, even if its image is
  // removed (as containerd keeps a removed image's snapshots in use).
  for (const auto& c : ctx.state.list_containers(nullptr)) {
    auto spec = nlohmann::json::parse(c.spec_json(), nullptr, false);
    if (spec.is_discarded()) continue;
    for (const auto& lower : spec["rootfs"]["lowers"])
      in_use.insert("sha256:" + std::filesystem::path(lower.get<std::string>()).filename().string());
  }
  for (const auto& img : gone) {
    for (const auto& diff_id : img.diff_ids()) {
      if (in_use.count(diff_id)) continue;
      in_use.insert(diff_id);  // once per layer shared by two removed images
      auto done = co_await reactor::run_blocking([&]() -> result<void> {
        auto d = image::digest::parse(diff_id);
        if (!d) return tl::unexpected(d.error());
        return ctx.layers.remove(*d);
      });
      if (!done) spdlog::warn("msg=\"layer not removed\" diff_id={} error=\"{}\"", diff_id, done.error().message());
    }
  }
  co_return result<void>{};
}

}  // namespace ringcri::cri
