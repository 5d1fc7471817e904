// The CRI's own metrics (ListMetricDescriptors, ListPodSandboxMetrics), as
// the kubelet reads them with PodAndContainerStatsFromCRI and serves them
// on /metrics/cadvisor: real pods and containers through the socket.

#include <map>
#include <optional>
#include <set>

#include "support/runtime_fixture.hpp"
#include "support/test_network.hpp"

using namespace ringcri::testing;

namespace {

const std::vector<std::string> base_keys = {"pod", "namespace", "container", "id", "image"};

std::vector<std::string> with_base(std::vector<std::string> own) {
  auto keys = base_keys;
  keys.insert(keys.end(), own.begin(), own.end());
  return keys;
}

// name -> label keys, as ListMetricDescriptors answers.
std::map<std::string, std::vector<std::string>> descriptors(runtime_fixture& f) {
  v1::ListMetricDescriptorsResponse resp;
  auto st =
      f.client.runtime_call(&S::ListMetricDescriptors, v1::ListMetricDescriptorsRequest{}, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& d : resp.descriptors()) {
    INFO(d.name());
    CHECK_FALSE(d.help().empty());
    CHECK(out.count(d.name()) == 0);
    out[d.name()] = {d.label_keys().begin(), d.label_keys().end()};
  }
  return out;
}

v1::ListPodSandboxMetricsResponse list_metrics(runtime_fixture& f) {
  v1::ListPodSandboxMetricsResponse resp;
  auto st =
      f.client.runtime_call(&S::ListPodSandboxMetrics, v1::ListPodSandboxMetricsRequest{}, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return resp;
}

const v1::PodSandboxMetrics* pod_in(const v1::ListPodSandboxMetricsResponse& resp,
                                    const std::string& pod) {
  for (const auto& p : resp.pod_metrics())
    if (p.pod_sandbox_id() == pod) return &p;
  return nullptr;
}

const v1::ContainerMetrics* container_in(const v1::PodSandboxMetrics& pod, const std::string& id) {
  for (const auto& c : pod.container_metrics())
    if (c.container_id() == id) return &c;
  return nullptr;
}

// The value of the sample of `name` whose last label is `last_label`
// (empty: any), or nullopt.
std::optional<std::uint64_t> value_of(const google::protobuf::RepeatedPtrField<v1::Metric>& metrics,
                                      const std::string& name, const std::string& last_label = "") {
  for (const auto& m : metrics)
    if (m.name() == name &&
        (last_label.empty() ||
         (m.label_values_size() > 0 && m.label_values(m.label_values_size() - 1) == last_label)))
      return m.value().value();
  return std::nullopt;
}

// Every sample names a described metric and has a value for each key.
void check_described(const std::map<std::string, std::vector<std::string>>& described,
                     const google::protobuf::RepeatedPtrField<v1::Metric>& metrics) {
  for (const auto& m : metrics) {
    INFO(m.name());
    auto d = described.find(m.name());
    REQUIRE(d != described.end());
    CHECK(static_cast<std::size_t>(m.label_values_size()) == d->second.size());
    CHECK(m.has_value());
    CHECK(m.timestamp() > 0);
  }
}

std::string label(const v1::Metric& m, const std::string& key,
                  const std::map<std::string, std::vector<std::string>>& described) {
  const auto& keys = described.at(m.name());
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return m.label_values(static_cast<int>(i));
  return "<no " + key + ">";
}

}  // namespace

TEST_CASE("metrics: the descriptors are cAdvisor's names with the kubelet's label keys") {
  runtime_fixture f;
  auto described = descriptors(f);

  CHECK(described.at("container_cpu_usage_seconds_total") == with_base({"cpu"}));
  for (const char* name :
       {"container_cpu_user_seconds_total", "container_cpu_system_seconds_total",
        "container_cpu_cfs_periods_total", "container_cpu_cfs_throttled_periods_total",
        "container_cpu_cfs_throttled_seconds_total", "container_memory_usage_bytes",
        "container_memory_working_set_bytes", "container_memory_rss", "container_memory_cache",
        "container_memory_mapped_file", "container_memory_swap", "container_memory_max_usage_bytes",
        "container_memory_failcnt", "container_oom_events_total",
        "container_spec_memory_limit_bytes", "container_threads", "container_threads_max",
        "container_last_seen", "container_start_time_seconds"}) {
    INFO(name);
    REQUIRE(described.count(name));
    CHECK(described.at(name) == base_keys);
  }
  CHECK(described.at("container_memory_failures_total") == with_base({"failure_type", "scope"}));
  for (const char* name :
       {"container_network_receive_bytes_total", "container_network_receive_packets_total",
        "container_network_receive_packets_dropped_total", "container_network_receive_errors_total",
        "container_network_transmit_bytes_total", "container_network_transmit_packets_total",
        "container_network_transmit_packets_dropped_total",
        "container_network_transmit_errors_total"}) {
    INFO(name);
    REQUIRE(described.count(name));
    CHECK(described.at(name) == with_base({"interface"}));
  }
  CHECK(described.size() == 29);

  // No pod yet: an empty list, not an error.
  CHECK(list_metrics(f).pod_metrics_size() == 0);
}

TEST_CASE(
    "metrics: a ready pod reports its own cgroup and its running containers, whose cpu grows") {
  runtime_fixture f;
  auto described = descriptors(f);
  auto p = f.run_pod_with("metrics-burn", {"sh", "-c", "while :; do :; done"});
  // A container that has exited is not reported.
  auto done = f.create_and_start(p.pod, p.pod_config, f.container_config("done", {"true"}));
  REQUIRE(f.wait_exited(done).state() == v1::CONTAINER_EXITED);

  auto resp = list_metrics(f);
  const auto* pod = pod_in(resp, p.pod);
  REQUIRE(pod != nullptr);
  REQUIRE(pod->container_metrics_size() == 1);
  const auto* c = container_in(*pod, p.container);
  REQUIRE(c != nullptr);
  CHECK(container_in(*pod, done) == nullptr);
  check_described(described, pod->metrics());
  check_described(described, c->metrics());

  // The container's labels name it as the kubelet knows it; the pod's
  // own series have container and image empty, as cAdvisor's pod cgroup.
  REQUIRE_FALSE(c->metrics().empty());
  for (const auto& m : c->metrics()) {
    INFO(m.name());
    CHECK(label(m, "pod", described) == "metrics-burn");
    CHECK(label(m, "namespace", described) == "default");
    CHECK(label(m, "container", described) == "metrics-burn");
    CHECK(label(m, "id", described) == p.container);
    CHECK(label(m, "image", described) == busybox());
    CHECK(m.name().find("network") == std::string::npos);  // the pod's, not the container's
  }
  REQUIRE_FALSE(pod->metrics().empty());
  for (const auto& m : pod->metrics()) {
    INFO(m.name());
    CHECK(label(m, "pod", described) == "metrics-burn");
    CHECK(label(m, "container", described) == "");
    CHECK(label(m, "id", described) == p.pod);
    CHECK(label(m, "image", described) == "");
  }

  auto working_set = value_of(c->metrics(), "container_memory_working_set_bytes");
  REQUIRE(working_set);
  CHECK(*working_set > 0);
  CHECK(value_of(pod->metrics(), "container_memory_working_set_bytes").value_or(0) >= *working_set);
  auto threads = value_of(c->metrics(), "container_threads");
  if (threads) CHECK(*threads >= 1);  // without the pids controller there is no sample

  // The busy loop's cpu counter (whole seconds) grows. The bound is for a
  // broken daemon, not a time the test asserts.
  auto first = value_of(c->metrics(), "container_cpu_usage_seconds_total", "total");
  REQUIRE(first);
  std::optional<std::uint64_t> later = first;
  for (auto deadline = std::chrono::steady_clock::now() + 120s;
       later == first && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(200ms);
    auto again = list_metrics(f);
    const auto* pod_again = pod_in(again, p.pod);
    REQUIRE(pod_again != nullptr);
    const auto* c_again = container_in(*pod_again, p.container);
    REQUIRE(c_again != nullptr);
    check_described(described, c_again->metrics());
    later = value_of(c_again->metrics(), "container_cpu_usage_seconds_total", "total");
    REQUIRE(later);
  }
  CHECK(*later > *first);

  // A stopped pod is not reported.
  REQUIRE(f.stop_pod(p.pod).ok());
  CHECK(pod_in(list_metrics(f), p.pod) == nullptr);
  f.remove_pod(p.pod);
  f.check_nothing_left();
}

TEST_CASE("metrics: a pod's network counters are the pod's and grow with traffic") {
  for (const char* plugin : {"/usr/lib/cni/bridge", "/usr/lib/cni/host-local",
                             "/usr/lib/cni/portmap", "/usr/lib/cni/bandwidth"}) {
    if (!fs::exists(plugin)) {
      skip_case(std::string("pod network metrics: ") + plugin +
                " is missing (containernetworking-plugins)");
      return;
    }
  }
  test_network net;
  runtime_fixture f(net.daemon_flags());
  auto described = descriptors(f);

  auto a_config = f.pod_config("metrics-net-a");
  std::string a;
  REQUIRE(f.run_pod(a_config, &a).ok());
  auto server = f.create_and_start(
      a, a_config,
      f.container_config("server",
                         {"sh", "-c",
                          "mkdir -p /www && echo hello > /www/index.html && echo serving && "
                          "httpd -f -p 8080 -h /www"}));
  f.wait_log(fs::path(a_config.log_directory()) / "server.log", "serving");
  const auto a_ip = f.pod_status(a).network().ip();
  REQUIRE_FALSE(a_ip.empty());

  auto before = list_metrics(f);
  const auto* pod_before = pod_in(before, a);
  REQUIRE(pod_before != nullptr);
  check_described(described, pod_before->metrics());
  auto rx_before = value_of(pod_before->metrics(), "container_network_receive_bytes_total", "eth0");
  REQUIRE(rx_before);
  // Every interface of the pod's namespace but lo, on the pod's series.
  for (const auto& m : pod_before->metrics())
    if (m.name().starts_with("container_network_")) CHECK(label(m, "interface", described) != "lo");
  for (const auto& c : pod_before->container_metrics())
    for (const auto& m : c.metrics()) CHECK_FALSE(m.name().starts_with("container_network_"));

  // Another pod fetches from A over the test's bridge.
  auto b_config = f.pod_config("metrics-net-b");
  std::string b;
  REQUIRE(f.run_pod(b_config, &b).ok());
  auto client = f.create_and_start(
      b, b_config,
      f.container_config("client",
                         {"wget", "-q", "-O", "-", "http://" + a_ip + ":8080/index.html"}));
  auto exited = f.wait_exited(client);
  REQUIRE(exited.state() == v1::CONTAINER_EXITED);
  CHECK(exited.exit_code() == 0);

  auto after = list_metrics(f);
  const auto* pod_after = pod_in(after, a);
  REQUIRE(pod_after != nullptr);
  auto rx_after = value_of(pod_after->metrics(), "container_network_receive_bytes_total", "eth0");
  REQUIRE(rx_after);
  CHECK(*rx_after > *rx_before);
  auto tx_before =
      value_of(pod_before->metrics(), "container_network_transmit_bytes_total", "eth0");
  auto tx_after = value_of(pod_after->metrics(), "container_network_transmit_bytes_total", "eth0");
  REQUIRE(tx_before);
  REQUIRE(tx_after);
  CHECK(*tx_after > *tx_before);

  f.remove_pod(a);
  f.remove_pod(b);
  CHECK(net.reservations().empty());
  f.check_nothing_left();
}
