#include "cri/restore.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cri/intents.hpp"

namespace ringcri::cri {

std::vector<std::string> record_kinds() {
  return {pods_kind, containers_kind, runtime_kind, images_kind, pod_intents_kind, container_intents_kind};
}

namespace {

template <class Record, class Put>
result<std::size_t> restore_kind(const record_store& store, const char* kind, Put put) {
  auto loaded = store.load(kind);
  if (!loaded) return tl::unexpected(loaded.error());
  std::size_t n = 0;
  for (const auto& r : *loaded) {
    Record record;
    if (!record.ParseFromString(r.bytes)) {
      spdlog::error("msg=\"unreadable record left in place\" kind={} id={}", kind, r.id);
      continue;
    }
    if (auto ok = put(std::move(record)); !ok) {
      spdlog::error("msg=\"record not restored\" kind={} id={} error=\"{}\"", kind, r.id, ok.error().message());
      continue;
    }
    ++n;
  }
  return n;
}

}  // namespace

result<void> restore(context& ctx) {
  auto pods = restore_kind<records::pod_sandbox>(
      ctx.store, pods_kind, [&](records::pod_sandbox p) { return ctx.state.restore_pod(std::move(p)); });
  if (!pods) return tl::unexpected(pods.error());
  // Containers after pods: each names its pod.
  auto containers = restore_kind<records::container>(
      ctx.store, containers_kind, [&](records::container c) { return ctx.state.restore_container(std::move(c)); });
  if (!containers) return tl::unexpected(containers.error());

  auto images = restore_kind<records::image>(ctx.store, images_kind, [&](records::image img) -> result<void> {
    ctx.images.put(std::move(img));
    return {};
  });
  if (!images) return tl::unexpected(images.error());

  auto settings = ctx.store.load(runtime_kind);
  if (!settings) return tl::unexpected(settings.error());
  for (const auto& r : *settings) {
    ::runtime::v1::NetworkConfig network;
    if (r.id == "network" && network.ParseFromString(r.bytes)) ctx.settings.set_pod_cidr(network.pod_cidr());
  }
  spdlog::info("msg=\"state restored\" pod_sandboxes={} containers={} images={}", *pods, *containers, *images);
  return {};
}

}  // namespace ringcri::cri
