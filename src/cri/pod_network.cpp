#include "cri/pod_network.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "cri/pod_bandwidth.hpp"
#include "net/cni/network.hpp"
#include "metrics/daemon_metrics.hpp"
#include "net/native/chain.hpp"
#include "reactor/blocking.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;
namespace cni = net::cni;

namespace {

std::vector<std::string> plugin_dirs_of(const config::config& cfg) {
  std::vector<std::string> dirs;
  for (const auto& d : cfg.cni.plugin_dirs) dirs.push_back(d.string());
  return dirs;
}

std::string protocol_name(v1::Protocol p) {
  switch (p) {
    case v1::UDP: return "udp";
    case v1::SCTP: return "sctp";
    default: return "tcp";
  }
}

// The pod's bandwidth annotations as limits (pod_bandwidth.hpp).
result<std::optional<cni::bandwidth_limits>> bandwidth_of(const records::pod_sandbox& pod) {
  const auto& annotations = pod.config().annotations();
  auto find = [&](const char* key) -> const std::string* {
    auto it = annotations.find(key);
    return it == annotations.end() ? nullptr : &it->second;
  };
  return cri::bandwidth_of(find(ingress_bandwidth_annotation), find(egress_bandwidth_annotation));
}

// What the plugins are told about the pod: its ids for CNI_ARGS (the keys
// kubelet's own CNI code used), its host ports for portmap and its
// bandwidth limits (checked at ADD: unreadable ones are none here).
cni::attachment attachment_of(const records::pod_sandbox& pod) {
  const auto& config = pod.config();
  cni::attachment a;
  a.container_id = pod.id();
  a.netns_path = pod.netns_path();
  a.args = {{"IgnoreUnknown", "1"},
            {"K8S_POD_NAMESPACE", config.metadata().namespace_()},
            {"K8S_POD_NAME", config.metadata().name()},
            {"K8S_POD_INFRA_CONTAINER_ID", pod.id()},
            {"K8S_POD_UID", config.metadata().uid()}};
  for (const auto& m : config.port_mappings()) {
    if (m.host_port() <= 0) continue;  // a container port alone publishes nothing
    cni::port_mapping p;
    p.host_port = static_cast<std::uint16_t>(m.host_port());
    p.container_port = static_cast<std::uint16_t>(m.container_port());
    p.protocol = protocol_name(m.protocol());
    p.host_ip = m.host_ip();
    a.port_mappings.push_back(std::move(p));
  }
  if (auto limits = bandwidth_of(pod)) a.bandwidth = *limits;
  return a;
}

net::native::chain_options chain_options_of(const config::config& cfg) {
  net::native::chain_options o;
  o.mode = cfg.cni.native ? net::native::native_mode::automatic : net::native::native_mode::off;
  o.plugin_dirs = plugin_dirs_of(cfg);
  return o;
}

}  // namespace

reactor::task<result<bool>> attach_pod_network(context& ctx, records::pod_sandbox& pod,
                                               std::function<reactor::task<result<void>>()> before_add) {
  const auto conf_dir = ctx.live.get()->cni.conf_dir;
  const auto options = chain_options_of(*ctx.live.get());
  if (auto limits = bandwidth_of(pod); !limits) co_return tl::unexpected(limits.error());
  const auto a = attachment_of(pod);
  auto t0 = std::chrono::steady_clock::now();
  auto loaded = co_await reactor::run_blocking([&] { return cni::load_default_network(conf_dir); });
  if (!loaded) co_return tl::unexpected(loaded.error().context("set up the pod's network (CNI ADD)"));
  if (!*loaded) {
    spdlog::info("msg=\"no CNI network config: the pod has loopback only\" id={} conf_dir={}", pod.id(),
                 conf_dir.string());
    co_return false;
  }
  // The network as used is the pod's from here on: a DEL, even after a
  // crash before the ADD's result was saved, runs with it.
  pod.set_cni_network((*loaded)->raw_json);
  if (before_add)
    if (auto noted = co_await before_add(); !noted) co_return tl::unexpected(noted.error());
  const cni::network_list& network = **loaded;
  metrics::timer add_took(metrics::cni_duration().with({"add"}));
  auto added = co_await net::native::add(network, a, options);
  add_took.stop();
  if (!added) {
    pod.set_cni_network("");  // ADD undid itself: nothing for a DEL
    co_return tl::unexpected(added.error().context("set up the pod's network (CNI ADD)"));
  }
  auto& done = *added;
  pod.set_cni_result(done.result_json);
  pod.set_cni_plugins(net::native::describe(done.runs));
  pod.clear_ips();
  for (const auto& ip : done.ips) pod.add_ips(ip.address);
  spdlog::debug("msg=\"pod network attached\" id={} ips={} ms={:.1f}", pod.id(), fmt::join(pod.ips(), ","),
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  co_return true;
}

reactor::task<result<void>> detach_pod_network(context& ctx, const records::pod_sandbox& pod) {
  if (pod.cni_network().empty()) co_return result<void>{};
  auto options = chain_options_of(*ctx.live.get());
  options.added = net::native::parse_runs(pod.cni_plugins());
  const auto a = attachment_of(pod);
  metrics::timer took(metrics::cni_duration().with({"del"}));
  auto deleted = co_await [&]() -> reactor::task<result<void>> {
    auto network = cni::parse_network_list(pod.cni_network(), fmt::format("pod {}'s network", pod.id()));
    if (!network) co_return tl::unexpected(network.error());
    co_return co_await net::native::del(*network, a, pod.cni_result(), options);
  }();
  took.stop();
  if (!deleted) co_return tl::unexpected(deleted.error().context("tear down the pod's network (CNI DEL)"));
  spdlog::debug("msg=\"pod network detached\" id={}", pod.id());
  co_return result<void>{};
}

reactor::task<void> check_pod_networks(context& ctx) {
  const auto options = chain_options_of(*ctx.live.get());
  const auto pods = ctx.state.list_pods(nullptr);
  std::size_t checked = 0, failed = 0;
  for (const auto& pod : pods) {
    if (pod.state() != v1::SANDBOX_READY || pod.cni_network().empty()) continue;
    if (reactor::reactor::current()->shutdown_token().cancelled()) co_return;
    const auto a = attachment_of(pod);
    auto as_added = options;
    as_added.added = net::native::parse_runs(pod.cni_plugins());
    metrics::timer took(metrics::cni_duration().with({"check"}));
    auto ok = co_await [&]() -> reactor::task<result<void>> {
      auto network = cni::parse_network_list(pod.cni_network(), fmt::format("pod {}'s network", pod.id()));
      if (!network) co_return tl::unexpected(network.error());
      co_return co_await net::native::check(*network, a, pod.cni_result(), as_added);
    }();
    took.stop();
    ++checked;
    if (!ok) {
      ++failed;
      spdlog::warn("msg=\"pod network check failed\" id={} error=\"{}\"", pod.id(), ok.error().message());
    }
  }
  if (checked > 0) spdlog::info("msg=\"pod networks checked\" pods={} failed={}", checked, failed);
}

reactor::task<std::optional<std::string>> network_not_ready_reason(context& ctx) {
  const auto conf_dir = ctx.live.get()->cni.conf_dir;
  auto loaded = co_await reactor::run_blocking([&] { return cni::load_default_network(conf_dir); });
  if (!loaded) co_return loaded.error().message();
  if (!*loaded) co_return fmt::format("no CNI network config in {}", conf_dir.string());
  co_return std::nullopt;
}

}  // namespace ringcri::cri
