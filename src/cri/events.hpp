#pragma once
// GetContainerEvents: the lifecycle of containers and pod sandboxes as a
// stream (created, started, stopped, deleted), which the kubelet's evented
// PLEG reads instead of relisting. Each event carries the pod's status and
// its containers' statuses at that moment, as containerd sends them.
//
// Handlers publish on whatever reactor they run on; every open stream gets
// every event published after it opened. A stream whose client reads too
// slowly (1000 events queued) is ended with RESOURCE_EXHAUSTED, so the
// kubelet reconnects and relists rather than missing events unknowingly.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "api.pb.h"
#include "records.pb.h"

namespace ringcri::cri {

struct context;

class event_hub {
 public:
  // Called under the hub's lock for each event; false: unsubscribe me.
  using sink = std::function<bool(const ::runtime::v1::ContainerEventResponse&)>;

  // `end` is called once, under the lock, by end_all().
  std::uint64_t subscribe(sink s, std::function<void()> end);
  // Once this returns the sink is never called again.
  void unsubscribe(std::uint64_t id);
  void publish(const ::runtime::v1::ContainerEventResponse& event);
  bool has_subscribers() const;
  // Ends every open stream (the daemon is stopping: the gRPC server would
  // otherwise wait for them until its shutdown deadline).
  void end_all();

 private:
  struct subscriber {
    sink on_event;
    std::function<void()> end;
  };
  mutable std::mutex mutex_;
  std::map<std::uint64_t, subscriber> sinks_;
  std::uint64_t next_ = 1;
};

// An event about a container, with its pod's status and containers'.
void publish_container_event(context& ctx, const records::container& c, ::runtime::v1::ContainerEventType type);
// An event about a pod sandbox (container_id is the pod's id).
void publish_pod_event(context& ctx, const records::pod_sandbox& pod, ::runtime::v1::ContainerEventType type);

}  // namespace ringcri::cri
