#include <chrono>

#include <fmt/format.h>

#include "base/crash_point.hpp"
#include "cri/image_lookup.hpp"
#include "cri/rpc/handlers.hpp"
#include "image/source/credentials.hpp"
#include "image/source/reference.hpp"
#include "metrics/daemon_metrics.hpp"

namespace ringcri::cri::rpc {

namespace {

// The request's AuthConfig when it has one, else the config file's entry
// for the registry, else anonymous.
result<image::credentials> credentials_for(const context& ctx, const v1::PullImageRequest& req,
                                           const image::reference& ref) {
  if (req.has_auth()) {
    const auto& a = req.auth();
    return image::credentials_from(a.username(), a.password(), a.auth(), a.identity_token(), a.registry_token());
  }
  const auto cfg = ctx.live.get();
  auto it = cfg->registry.auths.find(ref.registry);
  if (it == cfg->registry.auths.end()) return image::credentials{};
  const auto& a = it->second;
  auto creds = image::credentials_from(a.username, a.password, a.auth, a.identity_token, "");
  if (!creds) return tl::unexpected(std::move(creds.error()).context("config registry.auths.\"" + ref.registry + "\""));
  return creds;
}

}  // namespace

task<result<void>> pull_image(context& ctx, const v1::PullImageRequest& req, v1::PullImageResponse& resp) {
  const std::string& text = req.image().image();
  if (text.empty()) co_return fail(error_kind::invalid_argument, "image.image is required");
  auto ref = image::parse_reference(text);
  if (!ref) co_return tl::unexpected(ref.error());
  auto creds = credentials_for(ctx, req, *ref);
  if (!creds) co_return tl::unexpected(creds.error());

  metrics::timer took(metrics::image_pull_duration().with({}));
  auto pulled = co_await ctx.puller.pull(*ref, *creds);
  took.stop();
  metrics::image_pulls().with({pulled ? "success" : "failure"}).add();
  if (!pulled) co_return tl::unexpected(std::move(pulled.error()).context(fmt::format("pull image \"{}\"", text)));

  records::image rec;
  rec.set_id(pulled->id);
  if (!ref->tag.empty() && ref->digest.empty()) rec.add_repo_tags(ref->name() + ":" + ref->tag);
  rec.add_repo_digests(pulled->repo_digest);
  rec.set_size(pulled->size);
  rec.set_config(pulled->config_json);
  for (const auto& d : pulled->config.diff_ids) rec.add_diff_ids(d);
  rec.set_pulled_at(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count());

  // Merge with what the node has (a tag may move off another image), then
  // write the merged record before answering.
  auto orphaned = ctx.images.put(std::move(rec));
  auto merged = ctx.images.find(pulled->id);
  if (!merged) co_return fail(error_kind::internal, "image " + pulled->id + " vanished while being recorded");
  auto saved = co_await ctx.store.put(images_kind, image_key(merged->id()), merged->SerializeAsString());
  if (!saved) co_return tl::unexpected(std::move(saved.error()).context(fmt::format("record image \"{}\"", text)));
  crash_point(point("pull_image.after_image_record"));
  if (!orphaned.empty()) {
    if (auto gone = co_await forget_images(ctx, std::move(orphaned)); !gone) co_return tl::unexpected(gone.error());
  }
  resp.set_image_ref(pulled->id);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
