#include "cri/intents.hpp"

#include <spdlog/spdlog.h>

#include "cri/container_process.hpp"
#include "cri/pod_resources.hpp"

namespace ringcri::cri {

reactor::task<result<void>> note_intent(context& ctx, const records::pod_sandbox& pod) {
  co_return co_await ctx.store.put(pod_intents_kind, pod.id(), pod.SerializeAsString());
}

reactor::task<result<void>> note_intent(context& ctx, const records::container& c) {
  co_return co_await ctx.store.put(container_intents_kind, c.id(), c.SerializeAsString());
}

reactor::task<void> drop_pod_intent(context& ctx, const std::string& id) {
  if (auto dropped = co_await ctx.store.remove(pod_intents_kind, id); !dropped)
    spdlog::warn("msg=\"pod intent not dropped\" id={} error=\"{}\"", id, dropped.error().message());
}

reactor::task<void> drop_container_intent(context& ctx, const std::string& id) {
  if (auto dropped = co_await ctx.store.remove(container_intents_kind, id); !dropped)
    spdlog::warn("msg=\"container intent not dropped\" id={} error=\"{}\"", id, dropped.error().message());
}

namespace {

template <class Record>
result<std::vector<Record>> load_intents(context& ctx, const char* kind) {
  auto loaded = ctx.store.load(kind);
  if (!loaded) return tl::unexpected(loaded.error());
  std::vector<Record> out;
  for (const auto& r : *loaded) {
    Record record;
    if (record.ParseFromString(r.bytes) && record.id() == r.id) out.push_back(std::move(record));
    else spdlog::error("msg=\"unreadable intent left in place\" kind={} id={}", kind, r.id);
  }
  return out;
}

}  // namespace

reactor::task<void> sweep_intents(context& ctx) {
  std::size_t undone = 0, failed = 0;
  // Containers first: a pod's intent may describe the cgroup they are in.
  auto containers = load_intents<records::container>(ctx, container_intents_kind);
  if (!containers) {
    spdlog::error("msg=\"container intents not read\" error=\"{}\"", containers.error().message());
  } else {
    for (const auto& c : *containers) {
      if (ctx.state.get_container(container_id{c.id()})) {
        co_await drop_container_intent(ctx, c.id());
        continue;
      }
      auto removed = co_await remove_container_resources(ctx, c);
      if (!removed) {
        ++failed;
        spdlog::warn("msg=\"half-made container not undone\" id={} error=\"{}\"", c.id(), removed.error().message());
        continue;
      }
      ++undone;
      co_await drop_container_intent(ctx, c.id());
    }
  }
  auto pods = load_intents<records::pod_sandbox>(ctx, pod_intents_kind);
  if (!pods) {
    spdlog::error("msg=\"pod intents not read\" error=\"{}\"", pods.error().message());
  } else {
    for (const auto& p : *pods) {
      if (ctx.state.get_pod(sandbox_id{p.id()})) {
        co_await drop_pod_intent(ctx, p.id());
        continue;
      }
      auto removed = co_await remove_pod_resources(ctx, p);
      if (!removed) {
        ++failed;
        spdlog::warn("msg=\"half-made pod not undone\" id={} error=\"{}\"", p.id(), removed.error().message());
        continue;
      }
      ++undone;
      co_await drop_pod_intent(ctx, p.id());
    }
  }
  if (undone > 0 || failed > 0)
    spdlog::info("msg=\"half-made pods and containers undone\" undone={} failed={}", undone, failed);
}

}  // namespace ringcri::cri
