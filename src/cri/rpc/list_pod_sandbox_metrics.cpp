#include <spdlog/spdlog.h>

#include "cri/rpc/handlers.hpp"
#include "cri/stats/collect.hpp"
#include "cri/stats/metric_table.hpp"

namespace ringcri::cri::rpc {

namespace {

// A pod or container gone between the listing and the reading (its
// cgroup removed) is left out quietly; any other failure is logged and
// left out too, so one bad cgroup never costs the kubelet every metric.
void log_left_out(const error& e, std::string_view what, const std::string& id) {
  if (e.kind() != error_kind::not_found)
    spdlog::warn("msg=\"metrics of {} left out\" id={} error=\"{}\"", what, id, e.message());
}

stats::base_labels labels_of(const records::pod_sandbox& pod) {
  const auto& meta = pod.config().metadata();
  return {meta.name(), meta.namespace_(), "", pod.id(), ""};
}

stats::base_labels labels_of(const records::pod_sandbox& pod, const records::container& c) {
  const auto& image = c.config().image();
  // The image as the pod spec names it, as containerd labels it; the
  // kubelet sends that apart from the resolved reference.
  std::string name = !image.user_specified_image().empty() ? image.user_specified_image()
                     : !c.image_ref().empty()              ? c.image_ref()
                                                           : image.image();
  const auto& meta = pod.config().metadata();
  return {meta.name(), meta.namespace_(), c.config().metadata().name(), c.id(), std::move(name)};
}

}  // namespace

// Every ready pod's metrics and its running containers', read now (no
// cache: the kubelet asks at each scrape of /metrics/cadvisor).
task<result<void>> list_pod_sandbox_metrics(context& ctx, const v1::ListPodSandboxMetricsRequest&,
                                            v1::ListPodSandboxMetricsResponse& resp) {
  v1::PodSandboxFilter filter;
  filter.mutable_state()->set_state(v1::SANDBOX_READY);
  const auto pods = ctx.state.list_pods(&filter);
  for (const auto& pod : pods) {
    auto containers = ctx.state.containers_of(sandbox_id{pod.id()});
    std::erase_if(containers,
                  [](const records::container& c) { return c.state() != v1::CONTAINER_RUNNING; });
    auto reading =
        co_await stats::read_pod(ctx, pod, containers, exec::cgroups::stats_detail::full);
    if (!reading) {
      log_left_out(reading.error(), "pod sandbox", pod.id());
      continue;
    }

    auto* out = resp.add_pod_metrics();
    out->set_pod_sandbox_id(pod.id());
    const auto pod_labels = labels_of(pod);
    stats::metric_writer pod_metrics(*out->mutable_metrics(), pod_labels, reading->at_ns);
    stats::add_cgroup_metrics(reading->cgroup, pod_metrics);
    // The network is the pod's (one namespace for all its containers):
    // on the pod's own series, as containerd sends it.
    if (reading->has_network) stats::add_network_metrics(reading->interfaces, pod_metrics);
    stats::add_time_metrics(reading->at_ns, pod.created_at(), pod_metrics);

    for (std::size_t i = 0; i < containers.size(); ++i) {
      const auto& c = containers[i];
      const auto& cgroup = reading->containers[i];
      if (!cgroup) {
        log_left_out(cgroup.error(), "container", c.id());
        continue;
      }
      auto* cm = out->add_container_metrics();
      cm->set_container_id(c.id());
      const auto labels = labels_of(pod, c);
      stats::metric_writer container_metrics(*cm->mutable_metrics(), labels, reading->at_ns);
      stats::add_cgroup_metrics(*cgroup, container_metrics);
      stats::add_time_metrics(reading->at_ns, c.started_at(), container_metrics);
    }
  }
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
