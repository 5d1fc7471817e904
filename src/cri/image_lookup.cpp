#include "cri/image_lookup.hpp"

#include <filesystem>
#include <set>

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

namespace {

// The layers an image or a container uses. A container's lower layers stay
// while it exists, even if its image is removed (as containerd keeps a
// removed image's snapshots in use).
std::set<std::string> layers_in_use(context& ctx) {
  auto in_use = ctx.images.layers_in_use();
  for (const auto& c : ctx.state.list_containers(nullptr)) {
    auto spec = nlohmann::json::parse(c.spec_json(), nullptr, false);
    if (spec.is_discarded() || !spec.contains("rootfs")) continue;
    for (const auto& lower : spec["rootfs"]["lowers"])
      if (lower.is_string())
        in_use.insert("sha256:" + std::filesystem::path(lower.get<std::string>()).filename().string());
  }
  return in_use;
}

}  // namespace

reactor::task<void> sweep_unused_layers(context& ctx) {
  auto in_use = layers_in_use(ctx);
  auto listed = co_await reactor::run_blocking([&] { return ctx.layers.list(); });
  if (!listed) {
    spdlog::warn("msg=\"layers not swept\" error=\"{}\"", listed.error().message());
    co_return;
  }
  std::size_t removed = 0;
  for (const auto& d : *listed) {
    if (in_use.count(d.string())) continue;
    auto done = co_await reactor::run_blocking([&] { return ctx.layers.remove(d); });
    if (done) ++removed;
    else spdlog::warn("msg=\"unused layer not removed\" diff_id={} error=\"{}\"", d.string(), done.error().message());
  }
  if (removed > 0) spdlog::info("msg=\"layers no image or container uses removed\" count={}", removed);
}

reactor::task<result<void>> forget_images(context& ctx, std::vector<records::image> gone) {
  for (const auto& img : gone) {
    auto removed = co_await ctx.store.remove(images_kind, image_key(img.id()));
    if (!removed) co_return tl::unexpected(std::move(removed.error()).context("remove image record " + img.id()));
  }
  auto in_use = layers_in_use(ctx);
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
