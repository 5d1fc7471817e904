#include "cri/stats/collect.hpp"

#include <fmt/format.h>

#include <chrono>

#include "cri/paths.hpp"
#include "cri/stats/network_usage.hpp"
#include "cri/stats/writable_layer.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::cri::stats {

namespace v1 = ::runtime::v1;
namespace cg = exec::cgroups;

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void fill_cpu(context& ctx, const std::string& key, const cg::cgroup_stats& s, std::int64_t at,
              v1::CpuUsage& cpu) {
  cpu.set_timestamp(at);
  cpu.mutable_usage_core_nano_seconds()->set_value(s.cpu_usage_ns);
  if (auto rate = ctx.cpu_rates.nano_cores(key, at, s.cpu_usage_ns)) cpu.mutable_usage_nano_cores()->set_value(*rate);
}

void fill_memory(const cg::cgroup_stats& s, std::int64_t at, v1::MemoryUsage& mem) {
  mem.set_timestamp(at);
  mem.mutable_working_set_bytes()->set_value(s.memory_working_set);
  mem.mutable_usage_bytes()->set_value(s.memory_usage);
  mem.mutable_rss_bytes()->set_value(s.memory_rss);
  mem.mutable_page_faults()->set_value(s.page_faults);
  mem.mutable_major_page_faults()->set_value(s.major_page_faults);
  if (s.memory_limit > 0)
    mem.mutable_available_bytes()->set_value(s.memory_limit > s.memory_working_set ? s.memory_limit - s.memory_working_set
                                                                                   : 0);
}

struct container_sample {
  cg::cgroup_stats cgroup;
  layer_usage layer;
};

}  // namespace

reactor::task<result<v1::ContainerStats>> container_stats_of(context& ctx, const records::container& c) {
  const std::string cgroup = c.cgroup_path();
  const auto upper = container_dir_of(ctx.cfg, c.id()) / "upper";
  auto sampled = co_await reactor::run_blocking([&]() -> result<container_sample> {
    auto s = ctx.cgroups->stats(cgroup);
    if (!s) return tl::unexpected(s.error());
    return container_sample{*s, writable_layer_usage(upper)};
  });
  if (!sampled) co_return tl::unexpected(sampled.error().context(fmt::format("stats of container \"{}\"", c.id())));
  const std::int64_t at = now_ns();

  v1::ContainerStats out;
  auto* attributes = out.mutable_attributes();
  attributes->set_id(c.id());
  *attributes->mutable_metadata() = c.config().metadata();
  *attributes->mutable_labels() = c.config().labels();
  *attributes->mutable_annotations() = c.config().annotations();
  if (sampled->cgroup.has_cpu) fill_cpu(ctx, c.id(), sampled->cgroup, at, *out.mutable_cpu());
  if (sampled->cgroup.has_memory) fill_memory(sampled->cgroup, at, *out.mutable_memory());
  auto* layer = out.mutable_writable_layer();
  layer->set_timestamp(at);
  layer->mutable_fs_id()->set_mountpoint(container_dir_of(ctx.cfg, c.id()).parent_path().string());
  layer->mutable_used_bytes()->set_value(sampled->layer.used_bytes);
  layer->mutable_inodes_used()->set_value(sampled->layer.inodes_used);
  co_return out;
}

reactor::task<result<pod_reading>> read_pod(context& ctx, const records::pod_sandbox& pod,
                                            const std::vector<records::container>& containers,
                                            cg::stats_detail depth) {
  const std::string cgroup = pod.cgroup_path();
  const std::string netns = pod.netns_path();
  std::vector<std::string> container_cgroups;
  container_cgroups.reserve(containers.size());
  for (const auto& c : containers) container_cgroups.push_back(c.cgroup_path());
  auto sampled = co_await reactor::run_blocking([&]() -> result<pod_reading> {
    pod_reading r;
    auto cs = ctx.cgroups->stats(cgroup, depth);
    if (!cs) return tl::unexpected(cs.error());
    r.cgroup = *cs;
    if (!netns.empty()) {
      auto net = network_usage(netns);
      if (!net) return tl::unexpected(net.error());
      r.interfaces = std::move(*net);
      r.has_network = true;
    }
    r.containers.reserve(container_cgroups.size());
    for (const auto& path : container_cgroups) r.containers.push_back(ctx.cgroups->stats(path, depth));
    return r;
  });
  if (!sampled) co_return tl::unexpected(sampled.error().context(fmt::format("stats of pod sandbox \"{}\"", pod.id())));
  sampled->at_ns = now_ns();
  co_return std::move(*sampled);
}

reactor::task<result<v1::PodSandboxStats>> pod_stats_of(context& ctx, const records::pod_sandbox& pod) {
  const std::vector<records::container> no_containers;  // theirs come from container_stats_of below
  auto sampled = co_await read_pod(ctx, pod, no_containers, cg::stats_detail::usage);
  if (!sampled) co_return tl::unexpected(sampled.error());
  const std::int64_t at = sampled->at_ns;

  v1::PodSandboxStats out;
  auto* attributes = out.mutable_attributes();
  attributes->set_id(pod.id());
  *attributes->mutable_metadata() = pod.config().metadata();
  *attributes->mutable_labels() = pod.config().labels();
  *attributes->mutable_annotations() = pod.config().annotations();
  auto* pod_linux = out.mutable_linux();
  if (sampled->cgroup.has_cpu) fill_cpu(ctx, pod.id(), sampled->cgroup, at, *pod_linux->mutable_cpu());
  if (sampled->cgroup.has_memory) fill_memory(sampled->cgroup, at, *pod_linux->mutable_memory());
  pod_linux->mutable_process()->set_timestamp(at);
  // pids.current counts the whole subtree (every container's), as the
  // kubelet's process count expects.
  pod_linux->mutable_process()->mutable_process_count()->set_value(sampled->cgroup.pids);
  if (sampled->has_network) {
    auto* network = pod_linux->mutable_network();
    network->set_timestamp(at);
    for (const auto& i : sampled->interfaces) {
      v1::NetworkInterfaceUsage usage;
      usage.set_name(i.name);
      usage.mutable_rx_bytes()->set_value(i.rx_bytes);
      usage.mutable_rx_errors()->set_value(i.rx_errors);
      usage.mutable_tx_bytes()->set_value(i.tx_bytes);
      usage.mutable_tx_errors()->set_value(i.tx_errors);
      if (i.name == "eth0") *network->mutable_default_interface() = usage;
      *network->add_interfaces() = std::move(usage);
    }
  }
  const sandbox_id pod_id{pod.id()};
  const auto containers = ctx.state.containers_of(pod_id);
  for (const auto& c : containers) {
    if (c.state() != v1::CONTAINER_RUNNING && c.state() != v1::CONTAINER_CREATED) continue;
    auto cs = co_await container_stats_of(ctx, c);
    if (cs) *pod_linux->add_containers() = std::move(*cs);
  }
  co_return out;
}

}  // namespace ringcri::cri::stats
