#include "cri/stats/metric_table.hpp"

#include <spdlog/spdlog.h>

namespace ringcri::cri::stats {

namespace v1 = ::runtime::v1;
namespace cg = exec::cgroups;

namespace {

using enum metric_id;
constexpr auto counter = v1::COUNTER;
constexpr auto gauge = v1::GAUGE;

constexpr std::array<std::string_view, 2> no_keys = {};
constexpr std::array<std::string_view, 2> cpu_key = {"cpu"};
constexpr std::array<std::string_view, 2> interface_key = {"interface"};
constexpr std::array<std::string_view, 2> failure_keys = {"failure_type", "scope"};

// Names, keys and help as cAdvisor has them (containerd's and CRI-O's
// tables agree), but where noted.
constexpr metric_info table[] = {
    {cpu_usage_seconds, "container_cpu_usage_seconds_total", counter, cpu_key, 1,
     "Cumulative cpu time consumed in seconds."},
    {cpu_user_seconds, "container_cpu_user_seconds_total", counter, no_keys, 0,
     "Cumulative user cpu time consumed in seconds."},
    {cpu_system_seconds, "container_cpu_system_seconds_total", counter, no_keys, 0,
     "Cumulative system cpu time consumed in seconds."},
    {cpu_cfs_periods, "container_cpu_cfs_periods_total", counter, no_keys, 0,
     "Number of elapsed enforcement period intervals."},
    {cpu_cfs_throttled_periods, "container_cpu_cfs_throttled_periods_total", counter, no_keys, 0,
     "Number of throttled period intervals."},
    {cpu_cfs_throttled_seconds, "container_cpu_cfs_throttled_seconds_total", counter, no_keys, 0,
     "Total time duration the container has been throttled."},
    {memory_usage_bytes, "container_memory_usage_bytes", gauge, no_keys, 0,
     "Current memory usage in bytes, including all memory regardless of when it was accessed"},
    {memory_working_set_bytes, "container_memory_working_set_bytes", gauge, no_keys, 0,
     "Current working set in bytes."},
    {memory_rss, "container_memory_rss", gauge, no_keys, 0, "Size of RSS in bytes."},
    {memory_cache, "container_memory_cache", gauge, no_keys, 0,
     "Number of bytes of page cache memory."},
    {memory_mapped_file, "container_memory_mapped_file", gauge, no_keys, 0,
     "Size of memory mapped files in bytes."},
    {memory_swap, "container_memory_swap", gauge, no_keys, 0, "Container swap usage in bytes."},
    {memory_max_usage_bytes, "container_memory_max_usage_bytes", gauge, no_keys, 0,
     "Maximum memory usage recorded in bytes"},
    {memory_failcnt, "container_memory_failcnt", counter, no_keys, 0,
     "Number of memory usage hits limits"},
    {memory_failures, "container_memory_failures_total", counter, failure_keys, 2,
     "Cumulative count of memory allocation failures."},
    {oom_events, "container_oom_events_total", counter, no_keys, 0,
     "Count of out of memory events observed for the container"},
    // cAdvisor sends v1's "unlimited" as it reads (about 2^63); 0 here.
    {spec_memory_limit_bytes, "container_spec_memory_limit_bytes", gauge, no_keys, 0,
     "Memory limit for the container in bytes, 0 when unlimited."},
    {threads, "container_threads", gauge, no_keys, 0,
     "Number of threads running inside the container"},
    {threads_max, "container_threads_max", gauge, no_keys, 0,
     "Maximum number of threads allowed inside the container, infinity if value is zero"},
    {network_receive_bytes, "container_network_receive_bytes_total", counter, interface_key, 1,
     "Cumulative count of bytes received"},
    {network_receive_packets, "container_network_receive_packets_total", counter, interface_key, 1,
     "Cumulative count of packets received"},
    {network_receive_packets_dropped, "container_network_receive_packets_dropped_total", counter,
     interface_key, 1, "Cumulative count of packets dropped while receiving"},
    {network_receive_errors, "container_network_receive_errors_total", counter, interface_key, 1,
     "Cumulative count of errors encountered while receiving"},
    {network_transmit_bytes, "container_network_transmit_bytes_total", counter, interface_key, 1,
     "Cumulative count of bytes transmitted"},
    {network_transmit_packets, "container_network_transmit_packets_total", counter, interface_key,
     1, "Cumulative count of packets transmitted"},
    {network_transmit_packets_dropped, "container_network_transmit_packets_dropped_total", counter,
     interface_key, 1, "Cumulative count of packets dropped while transmitting"},
    {network_transmit_errors, "container_network_transmit_errors_total", counter, interface_key, 1,
     "Cumulative count of errors encountered while transmitting"},
    {last_seen, "container_last_seen", gauge, no_keys, 0,
     "Last time a container was seen by the exporter"},
    {start_time_seconds, "container_start_time_seconds", gauge, no_keys, 0,
     "Start time of the container since unix epoch in seconds."},
};

constexpr bool in_id_order() {
  for (std::size_t i = 0; i < std::size(table); ++i)
    if (static_cast<std::size_t>(table[i].id) != i) return false;
  return true;
}
static_assert(in_id_order(), "the metric table is indexed by metric_id");
static_assert(static_cast<std::size_t>(start_time_seconds) + 1 == std::size(table),
              "a metric_id has no row");

constexpr std::uint64_t ns_per_second = 1'000'000'000;

}  // namespace

std::span<const metric_info> metric_table() { return table; }

const metric_info& info_of(metric_id id) { return table[static_cast<std::size_t>(id)]; }

v1::MetricDescriptor descriptor_of(const metric_info& info) {
  v1::MetricDescriptor d;
  d.set_name(std::string(info.name));
  d.set_help(std::string(info.help));
  for (auto key : base_label_keys) d.add_label_keys(std::string(key));
  for (std::size_t i = 0; i < info.own_key_count; ++i)
    d.add_label_keys(std::string(info.own_keys[i]));
  return d;
}

void metric_writer::add(metric_id id, std::uint64_t value,
                        std::initializer_list<std::string_view> own) {
  const metric_info& info = info_of(id);
  if (own.size() != info.own_key_count) {
    spdlog::error("msg=\"metric sample with {} own labels, its descriptor has {}\" metric={}",
                  own.size(), info.own_key_count, info.name);
    return;
  }
  v1::Metric* m = out_.Add();
  m->set_name(std::string(info.name));
  m->set_timestamp(at_ns_);
  m->set_metric_type(info.type);
  auto* labels = m->mutable_label_values();
  labels->Reserve(static_cast<int>(base_label_keys.size() + own.size()));
  for (const std::string* v :
       {&base_.pod, &base_.namespace_, &base_.container, &base_.id, &base_.image})
    labels->Add(std::string(*v));
  for (auto v : own) labels->Add(std::string(v));
  m->mutable_value()->set_value(value);
}

void add_cgroup_metrics(const cg::cgroup_stats& s, metric_writer& out) {
  if (s.has_cpu) out.add(cpu_usage_seconds, s.cpu_usage_ns / ns_per_second, {"total"});
  if (s.cpu_time) {
    out.add(cpu_user_seconds, s.cpu_time->user_ns / ns_per_second);
    out.add(cpu_system_seconds, s.cpu_time->system_ns / ns_per_second);
  }
  if (s.throttling) {
    out.add(cpu_cfs_periods, s.throttling->periods);
    out.add(cpu_cfs_throttled_periods, s.throttling->throttled_periods);
    out.add(cpu_cfs_throttled_seconds, s.throttling->throttled_ns / ns_per_second);
  }
  if (s.has_memory) {
    out.add(memory_usage_bytes, s.memory_usage);
    out.add(memory_working_set_bytes, s.memory_working_set);
    out.add(memory_rss, s.memory_rss);
    out.add(memory_cache, s.memory_cache);
    out.add(memory_mapped_file, s.memory_mapped_file);
    out.add(memory_failures, s.own_page_faults, {"pgfault", "container"});
    out.add(memory_failures, s.page_faults, {"pgfault", "hierarchy"});
    out.add(memory_failures, s.own_major_page_faults, {"pgmajfault", "container"});
    out.add(memory_failures, s.major_page_faults, {"pgmajfault", "hierarchy"});
    out.add(spec_memory_limit_bytes, s.memory_limit);
    if (s.memory_swap) out.add(memory_swap, *s.memory_swap);
    if (s.memory_max_usage) out.add(memory_max_usage_bytes, *s.memory_max_usage);
    if (s.memory_failcnt) out.add(memory_failcnt, *s.memory_failcnt);
    if (s.oom_kills) out.add(oom_events, *s.oom_kills);
  }
  if (s.has_pids) {
    out.add(threads, s.pids);
    if (s.pids_max) out.add(threads_max, *s.pids_max);
  }
}

void add_network_metrics(const std::vector<interface_usage>& interfaces, metric_writer& out) {
  for (const auto& i : interfaces) {
    const std::string_view name = i.name;
    out.add(network_receive_bytes, i.rx_bytes, {name});
    out.add(network_receive_packets, i.rx_packets, {name});
    out.add(network_receive_packets_dropped, i.rx_dropped, {name});
    out.add(network_receive_errors, i.rx_errors, {name});
    out.add(network_transmit_bytes, i.tx_bytes, {name});
    out.add(network_transmit_packets, i.tx_packets, {name});
    out.add(network_transmit_packets_dropped, i.tx_dropped, {name});
    out.add(network_transmit_errors, i.tx_errors, {name});
  }
}

void add_time_metrics(std::int64_t now_ns, std::int64_t started_ns, metric_writer& out) {
  out.add(last_seen, static_cast<std::uint64_t>(now_ns) / ns_per_second);
  if (started_ns > 0)
    out.add(start_time_seconds, static_cast<std::uint64_t>(started_ns) / ns_per_second);
}

}  // namespace ringcri::cri::stats
