#pragma once
// What every RPC handler works with: the config, the reactors, the
// in-memory state and the durable store. One per daemon.

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>

#include "base/swappable.hpp"
#include "config/config.hpp"
#include "cri/events.hpp"
#include "cri/stats/cpu_rate.hpp"
#include "cri/process_table.hpp"
#include "cri/state/image_index.hpp"
#include "cri/state/runtime_state.hpp"
#include "cri/store/record_store.hpp"
#include "exec/cgroups/hierarchy.hpp"
#include "image/pull/puller.hpp"
#include "image/layer_store.hpp"
#include "reactor/pool.hpp"
#include "reactor/turns.hpp"

namespace ringcri::cri {

class keeper_link;
namespace streaming {
class server;
}
using state::container_id;
using state::image_index;
using state::runtime_state;
using state::sandbox_id;
using store::record_store;

// Settings the kubelet pushes at run time (UpdateRuntimeConfig).
class runtime_settings {
 public:
  std::string pod_cidr() const {
    std::lock_guard lock(mutex_);
    return pod_cidr_;
  }
  void set_pod_cidr(std::string cidr) {
    std::lock_guard lock(mutex_);
    pod_cidr_ = std::move(cidr);
  }

 private:
  mutable std::mutex mutex_;
  std::string pod_cidr_;
};

struct context {
  context(const config::config& c, reactor::reactor_pool& p, runtime_state& s, record_store& r,
          image_index& i, image::layer_store& l, image::puller& pl)
      : cfg(c), live(c), pool(p), state(s), store(r), images(i), layers(l), puller(pl), turns(p.size()) {}

  // The config the daemon started with: what only a restart changes.
  const config::config& cfg;
  // The config as last (re)loaded (SIGHUP, reload.hpp): the keys a reload
  // changes (registry credentials, CNI, log level) are read from here, a
  // snapshot per use.
  swappable<config::config> live;
  reactor::reactor_pool& pool;
  runtime_state& state;
  record_store& store;
  image_index& images;
  image::layer_store& layers;
  image::puller& puller;
  runtime_settings settings;
  // Set once at start-up, before the server serves.
  keeper_link* keeper = nullptr;
  exec::cgroups::hierarchy* cgroups = nullptr;
  streaming::server* streaming = nullptr;  // Exec, Attach and PortForward URLs
  // The node can run pods in user namespaces (user_namespace_probe.hpp).
  bool user_namespaces = false;
  // The mount point layer (mount_point_layer.hpp); empty if it could not
  // be made, and containers then make their mount points themselves.
  std::filesystem::path mount_point_layer;
  process_table processes;
  event_hub events;  // GetContainerEvents
  // Unary calls handed to a reactor and not yet answered (server.cpp
  // waits for them at stop, and for nothing else).
  std::atomic<int> calls_running{0};
  stats::cpu_rate cpu_rates;  // usage_nano_cores between stats calls
  // Per reactor: the turns a pod's lifecycle RPCs take (dispatch.hpp).
  // Only its own reactor touches each.
  std::vector<reactor::turns> turns;

  // The reactor that owns a pod: every request about the pod or its
  // containers runs there, so they never race each other.
  unsigned core_of(const sandbox_id& pod) const;
  // A reactor for requests about no pod in particular (round-robin).
  unsigned any_core();

 private:
  std::atomic<unsigned> next_core_{0};
};

// Kinds of records in the store.
inline constexpr const char* pods_kind = "pods";
inline constexpr const char* containers_kind = "containers";
inline constexpr const char* runtime_kind = "runtime";
inline constexpr const char* images_kind = "images";

}  // namespace ringcri::cri
