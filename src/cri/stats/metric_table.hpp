#pragma once
// The metrics of ListMetricDescriptors and ListPodSandboxMetrics
// (KEP-2371), in one table both RPCs read, so a sample never names a
// metric or a label the descriptors do not have.
//
// The kubelet (PodAndContainerStatsFromCRI) serves these on
// /metrics/cadvisor as they come: names, label keys and help are
// cAdvisor's, and the label set is the one containerd and CRI-O send:
// pod, namespace, container, id, image, then the metric's own keys. A
// pod's own samples (its cgroup, its network) have container="" and
// image="", as cAdvisor labels a pod cgroup, so rules that keep
// container!="" or image!="" count each container once.
//
// Values are uint64 and the kubelet takes them as they are, so a
// *_seconds_* counter carries whole seconds, truncated, as containerd and
// CRI-O send it.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api.pb.h"
#include "cri/stats/network_usage.hpp"
#include "exec/cgroups/stats.hpp"

namespace ringcri::cri::stats {

enum class metric_id : std::uint8_t {
  cpu_usage_seconds,
  cpu_user_seconds,
  cpu_system_seconds,
  cpu_cfs_periods,
  cpu_cfs_throttled_periods,
  cpu_cfs_throttled_seconds,
  memory_usage_bytes,
  memory_working_set_bytes,
  memory_rss,
  memory_cache,
  memory_mapped_file,
  memory_swap,
  memory_max_usage_bytes,
  memory_failcnt,
  memory_failures,
  oom_events,
  spec_memory_limit_bytes,
  threads,
  threads_max,
  network_receive_bytes,
  network_receive_packets,
  network_receive_packets_dropped,
  network_receive_errors,
  network_transmit_bytes,
  network_transmit_packets,
  network_transmit_packets_dropped,
  network_transmit_errors,
  last_seen,
  start_time_seconds,
};

// The label keys every metric starts with, in this order.
inline constexpr std::array<std::string_view, 5> base_label_keys = {"pod", "namespace", "container",
                                                                    "id", "image"};

struct metric_info {
  metric_id id;
  std::string_view name;
  runtime::v1::MetricType type;
  std::array<std::string_view, 2> own_keys;  // after the base keys; the first own_key_count used
  std::size_t own_key_count;
  std::string_view help;
};

// Every metric, in metric_id order.
std::span<const metric_info> metric_table();
const metric_info& info_of(metric_id id);
runtime::v1::MetricDescriptor descriptor_of(const metric_info& info);

// The values of base_label_keys for one pod or container.
struct base_labels {
  std::string pod, namespace_, container, id, image;
};

// Appends samples of one pod or container, all labelled with `base` and
// stamped `at_ns`, to `out`.
class metric_writer {
 public:
  metric_writer(google::protobuf::RepeatedPtrField<runtime::v1::Metric>& out,
                const base_labels& base, std::int64_t at_ns)
      : out_(out), base_(base), at_ns_(at_ns) {}

  // `own`: the values of the metric's own keys, as many as it has; a
  // call with another count is a bug and adds nothing.
  void add(metric_id id, std::uint64_t value, std::initializer_list<std::string_view> own = {});

 private:
  google::protobuf::RepeatedPtrField<runtime::v1::Metric>& out_;
  const base_labels& base_;
  std::int64_t at_ns_;
};

// CPU, memory and task metrics of a cgroup (a container's or a pod's),
// each one only where its reading was there (see cgroup_stats).
void add_cgroup_metrics(const exec::cgroups::cgroup_stats& s, metric_writer& out);

// The pod's network counters, one sample per interface (lo left out).
void add_network_metrics(const std::vector<interface_usage>& interfaces, metric_writer& out);

// container_last_seen (now) and container_start_time_seconds.
void add_time_metrics(std::int64_t now_ns, std::int64_t started_ns, metric_writer& out);

}  // namespace ringcri::cri::stats
