// The metric table and the samples written from cgroup and network
// readings: every sample names a described metric, its labels line up
// with the descriptor's keys, and seconds are whole seconds.

#include "cri/stats/metric_table.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

namespace stats = ringcri::cri::stats;
namespace cg = ringcri::exec::cgroups;
namespace v1 = ::runtime::v1;

namespace {

std::map<std::string, v1::MetricDescriptor> descriptors() {
  std::map<std::string, v1::MetricDescriptor> out;
  for (const auto& info : stats::metric_table())
    out[std::string(info.name)] = stats::descriptor_of(info);
  return out;
}

// A reading with every field there, as a v1 node with swap accounting gives.
cg::cgroup_stats full_reading() {
  cg::cgroup_stats s;
  s.has_cpu = s.has_memory = s.has_pids = true;
  s.cpu_usage_ns = 2'999'999'999;
  s.cpu_time = cg::cgroup_stats::cpu_split{1'500'000'000, 900'000'000};
  s.throttling = cg::cgroup_stats::cpu_throttling{40, 7, 3'200'000'000};
  s.memory_usage = 5000;
  s.memory_working_set = 4000;
  s.memory_rss = 3000;
  s.memory_cache = 2000;
  s.memory_mapped_file = 1000;
  s.memory_limit = 1 << 20;
  s.page_faults = 77;
  s.own_page_faults = 70;
  s.major_page_faults = 8;
  s.own_major_page_faults = 6;
  s.pids = 3;
  s.memory_swap = 10;
  s.memory_max_usage = 6000;
  s.memory_failcnt = 1;
  s.oom_kills = 2;
  s.pids_max = 0;
  return s;
}

// name -> the samples of it, each "label values | value".
std::multimap<std::string, std::string> samples(
    const google::protobuf::RepeatedPtrField<v1::Metric>& metrics) {
  std::multimap<std::string, std::string> out;
  for (const auto& m : metrics) {
    std::string labels;
    for (const auto& v : m.label_values()) labels += v + ",";
    out.emplace(m.name(), labels + "|" + std::to_string(m.value().value()));
  }
  return out;
}

}  // namespace

TEST_CASE("metric table: unique cAdvisor names, the base keys first, no key twice") {
  std::set<std::string> names;
  for (const auto& info : stats::metric_table()) {
    INFO(info.name);
    CHECK(names.insert(std::string(info.name)).second);
    CHECK(info.name.starts_with("container_"));
    CHECK_FALSE(info.help.empty());
    // Counters end in _total, as Prometheus names them, but cAdvisor's
    // failcnt.
    if (info.name.ends_with("_total")) CHECK(info.type == v1::COUNTER);
    auto d = stats::descriptor_of(info);
    REQUIRE(d.label_keys_size() ==
            static_cast<int>(stats::base_label_keys.size() + info.own_key_count));
    for (std::size_t i = 0; i < stats::base_label_keys.size(); ++i)
      CHECK(d.label_keys(static_cast<int>(i)) == stats::base_label_keys[i]);
    std::set<std::string> keys(d.label_keys().begin(), d.label_keys().end());
    CHECK(keys.size() == static_cast<std::size_t>(d.label_keys_size()));
  }
  CHECK(names.count("container_cpu_usage_seconds_total"));
  CHECK(names.count("container_memory_working_set_bytes"));
  CHECK(names.count("container_network_receive_bytes_total"));
  CHECK(
      stats::descriptor_of(stats::info_of(stats::metric_id::network_receive_bytes)).label_keys(5) ==
      "interface");
  CHECK(stats::descriptor_of(stats::info_of(stats::metric_id::cpu_usage_seconds)).label_keys(5) ==
        "cpu");
}

TEST_CASE("metric table: every sample of a full reading is described and labelled in full") {
  const auto described = descriptors();
  google::protobuf::RepeatedPtrField<v1::Metric> out;
  const stats::base_labels base{"web", "default", "app", "c0ffee", "busybox:1"};
  stats::metric_writer w(out, base, 1'700'000'000'123'456'789);
  stats::add_cgroup_metrics(full_reading(), w);
  std::vector<stats::interface_usage> ifaces(2);
  ifaces[0] = {"eth0", 100, 1, 200, 2, 10, 3, 20, 4};
  ifaces[1] = {"net1", 5, 0, 6, 0, 1, 0, 1, 0};
  stats::add_network_metrics(ifaces, w);
  stats::add_time_metrics(1'700'000'000'123'456'789, 1'600'000'000'000'000'000, w);

  std::set<std::string> seen;
  for (const auto& m : out) {
    INFO(m.name());
    auto d = described.find(m.name());
    REQUIRE(d != described.end());
    CHECK(m.label_values_size() == d->second.label_keys_size());
    CHECK(m.timestamp() == 1'700'000'000'123'456'789);
    for (const auto& info : stats::metric_table())
      if (info.name == m.name()) CHECK(m.metric_type() == info.type);
    REQUIRE(m.label_values_size() >= 5);
    CHECK(m.label_values(0) == "web");
    CHECK(m.label_values(1) == "default");
    CHECK(m.label_values(2) == "app");
    CHECK(m.label_values(3) == "c0ffee");
    CHECK(m.label_values(4) == "busybox:1");
    seen.insert(m.name());
  }
  // A full reading gives every metric of the table.
  CHECK(seen.size() == stats::metric_table().size());

  auto got = samples(out);
  const std::string labels = "web,default,app,c0ffee,busybox:1,";
  // Whole seconds, truncated, as the kubelet takes the value as it is.
  CHECK(got.find("container_cpu_usage_seconds_total")->second == labels + "total,|2");
  CHECK(got.find("container_cpu_user_seconds_total")->second == labels + "|1");
  CHECK(got.find("container_cpu_system_seconds_total")->second == labels + "|0");
  CHECK(got.find("container_cpu_cfs_throttled_seconds_total")->second == labels + "|3");
  CHECK(got.find("container_memory_working_set_bytes")->second == labels + "|4000");
  CHECK(got.count("container_memory_failures_total") == 4);
  auto failures = got.equal_range("container_memory_failures_total");
  std::set<std::string> failure_samples;
  for (auto it = failures.first; it != failures.second; ++it) failure_samples.insert(it->second);
  CHECK(failure_samples == std::set<std::string>{labels + "pgfault,container,|70",
                                                 labels + "pgfault,hierarchy,|77",
                                                 labels + "pgmajfault,container,|6",
                                                 labels + "pgmajfault,hierarchy,|8"});
  CHECK(got.count("container_network_receive_bytes_total") == 2);
  CHECK(got.find("container_network_receive_bytes_total")->second == labels + "eth0,|100");
  CHECK(got.find("container_network_transmit_packets_dropped_total")->second == labels + "eth0,|4");
  CHECK(got.find("container_last_seen")->second == labels + "|1700000000");
  CHECK(got.find("container_start_time_seconds")->second == labels + "|1600000000");
}

TEST_CASE("metric table: a field not read sends no sample, a wrong label count sends nothing") {
  google::protobuf::RepeatedPtrField<v1::Metric> out;
  const stats::base_labels base{"web", "default", "", "pod0", ""};
  stats::metric_writer w(out, base, 1);
  cg::cgroup_stats s;  // nothing read: no controller mounted
  stats::add_cgroup_metrics(s, w);
  CHECK(out.empty());

  // v2: no failcnt, no swap without the file.
  s = full_reading();
  s.memory_failcnt.reset();
  s.memory_swap.reset();
  s.throttling.reset();
  stats::add_cgroup_metrics(s, w);
  auto got = samples(out);
  CHECK(got.count("container_memory_failcnt") == 0);
  CHECK(got.count("container_memory_swap") == 0);
  CHECK(got.count("container_cpu_cfs_periods_total") == 0);
  CHECK(got.count("container_memory_usage_bytes") == 1);
  // A pod's own series: container and image empty.
  CHECK(got.find("container_memory_usage_bytes")->second == "web,default,,pod0,,|5000");

  const int before = out.size();
  w.add(stats::metric_id::network_receive_bytes, 1);  // lacks its interface
  w.add(stats::metric_id::memory_rss, 1, {"extra"});
  CHECK(out.size() == before);
}
