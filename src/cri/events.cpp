#include "cri/events.hpp"

#include "cri/context.hpp"
#include "cri/records_io.hpp"
#include "cri/views/container_view.hpp"
#include "cri/views/pod_sandbox_view.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;

std::uint64_t event_hub::subscribe(sink s, std::function<void()> end) {
  std::lock_guard lock(mutex_);
  auto id = next_++;
  sinks_.emplace(id, subscriber{std::move(s), std::move(end)});
  return id;
}

void event_hub::end_all() {
  std::lock_guard lock(mutex_);
  for (auto& [id, s] : sinks_) s.end();
  sinks_.clear();
}

void event_hub::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  sinks_.erase(id);
}

bool event_hub::has_subscribers() const {
  std::lock_guard lock(mutex_);
  return !sinks_.empty();
}

void event_hub::publish(const v1::ContainerEventResponse& event) {
  std::lock_guard lock(mutex_);
  for (auto it = sinks_.begin(); it != sinks_.end();) {
    if (it->second.on_event(event)) ++it;
    else it = sinks_.erase(it);
  }
}

namespace {

v1::ContainerEventResponse event_for(context& ctx, const std::string& id, const std::string& pod_id,
                                     v1::ContainerEventType type) {
  v1::ContainerEventResponse e;
  e.set_container_id(id);
  e.set_container_event_type(type);
  e.set_created_at(now_ns());
  if (auto pod = ctx.state.get_pod(state::sandbox_id{pod_id})) *e.mutable_pod_sandbox_status() = pod_sandbox_status_of(*pod);
  for (const auto& c : ctx.state.containers_of(state::sandbox_id{pod_id}))
    *e.add_containers_statuses() = container_status_of(c);
  return e;
}

}  // namespace

void publish_container_event(context& ctx, const records::container& c, v1::ContainerEventType type) {
  if (!ctx.events.has_subscribers()) return;  // no one listens: no statuses to build
  auto e = event_for(ctx, c.id(), c.pod_sandbox_id(), type);
  // A deleted container is gone from the state: its last status still goes.
  if (type == v1::CONTAINER_DELETED_EVENT) *e.add_containers_statuses() = container_status_of(c);
  ctx.events.publish(e);
}

void publish_pod_event(context& ctx, const records::pod_sandbox& pod, v1::ContainerEventType type) {
  if (!ctx.events.has_subscribers()) return;
  auto e = event_for(ctx, pod.id(), pod.id(), type);
  if (!e.has_pod_sandbox_status()) *e.mutable_pod_sandbox_status() = pod_sandbox_status_of(pod);
  ctx.events.publish(e);
}

}  // namespace ringcri::cri
