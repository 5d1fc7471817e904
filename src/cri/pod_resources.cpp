#include "cri/pod_resources.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "base/crash_point.hpp"
#include "cri/cgroup_names.hpp"
#include "cri/intents.hpp"
#include "cri/keeper_link.hpp"
#include "cri/paths.hpp"
#include "cri/pod_network.hpp"
#include "cri/spec/user_namespace.hpp"
#include "exec/sandbox/namespaces.hpp"
#include "exec/sandbox/pod_files.hpp"
#include "metrics/daemon_metrics.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;
namespace sandbox = exec::sandbox;

namespace {

bool is_node(v1::NamespaceMode mode) { return mode == v1::NODE; }


}  // namespace

reactor::task<result<void>> make_pod_resources(context& ctx, records::pod_sandbox& pod) {
  const auto& config = pod.config();
  const auto& ns = config.linux().security_context().namespace_options();
  const bool host_network = is_node(ns.network());
  std::filesystem::path dir = pod_dir_of(ctx.cfg, pod.id());
  pod.set_pod_dir(dir.string());

  // Validated before anything is made, so a bad parent leaves nothing.
  auto cgroup_or = pod_cgroup_of(ctx.cfg.cgroup_driver, config.linux().cgroup_parent(), pod.id());
  if (!cgroup_or) co_return tl::unexpected(cgroup_or.error());
  const std::string cgroup = *cgroup_or;

  sandbox::namespace_request wanted;
  wanted.network = !host_network;
  wanted.ipc = !is_node(ns.ipc());
  wanted.uts = !host_network;  // a pod on the host network keeps the host's name too
  wanted.hostname = config.hostname();
  // Validated by RunPodSandbox; checked again here for any other caller.
  auto userns = spec::user_namespace_of(ns);
  if (!userns) co_return tl::unexpected(userns.error());
  if (*userns) {
    wanted.uid_mappings = (*userns)->uids;
    wanted.gid_mappings = (*userns)->gids;
  }

  sandbox::pod_files_request files;
  files.hostname = config.hostname();
  files.host_network = host_network;
  files.has_dns_config = config.has_dns_config();
  for (const auto& s : config.dns_config().servers()) files.dns_servers.push_back(s);
  for (const auto& s : config.dns_config().searches()) files.dns_searches.push_back(s);
  for (const auto& s : config.dns_config().options()) files.dns_options.push_back(s);

  // What is made below is noted first (intents.hpp): a daemon killed half
  // way leaves a note, not a pod nobody can find.
  const std::string first_procs = ctx.cgroups->procs_files(cgroup).front();
  bool existed = co_await reactor::run_blocking([&] {
    std::error_code ec;
    return std::filesystem::exists(first_procs, ec);
  });
  pod.set_cgroup_path(cgroup);
  pod.set_owns_cgroup(!existed);
  auto& phase = metrics::pod_start_phase();
  auto step = std::chrono::steady_clock::now();
  // The time since the last step, into `h`.
  auto took = [&step](metrics::histogram& h) {
    auto now = std::chrono::steady_clock::now();
    h.observe(now - step);
    step = now;
  };
  if (auto noted = co_await note_intent(ctx, pod); !noted)
    co_return tl::unexpected(noted.error().context("note the pod's intent"));
  took(phase.with({"intent"}));
  crash_point(point("run_pod_sandbox.after_intent"));

  // Measured on the blocking thread that does the work.
  std::chrono::nanoseconds namespaces_took{}, cgroup_took{};
  auto made = co_await reactor::run_blocking([&]() -> result<void> {
    auto began = std::chrono::steady_clock::now();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail_errno(ec.value(), fmt::format("create pod dir \"{}\"", dir.string()));
    auto held = sandbox::hold_namespaces(dir, wanted);
    if (!held) return tl::unexpected(held.error());
    pod.set_netns_path(held->network);
    pod.set_ipc_ns_path(held->ipc);
    pod.set_uts_ns_path(held->uts);
    auto written = sandbox::write_pod_files(dir, files);
    if (!written) return tl::unexpected(written.error());
    pod.set_hosts_path(written->hosts);
    pod.set_resolv_conf_path(written->resolv_conf);
    pod.set_hostname_path(written->hostname);

    auto cgroup_began = std::chrono::steady_clock::now();
    namespaces_took = cgroup_began - began;
    auto procs = ctx.cgroups->create(cgroup);
    if (!procs) return tl::unexpected(procs.error().context("create pod cgroup"));
    cgroup_took = std::chrono::steady_clock::now() - cgroup_began;
    return {};
  });
  phase.with({"namespaces"}).observe(namespaces_took);
  phase.with({"cgroup"}).observe(cgroup_took);
  step = std::chrono::steady_clock::now();
  if (!made) {
    (void)co_await remove_pod_resources(ctx, pod);
    co_return tl::unexpected(made.error());
  }
  crash_point(point("run_pod_sandbox.after_resources"));

  if (!host_network) {
    auto attached = co_await attach_pod_network(ctx, pod, [&ctx, &pod]() { return note_intent(ctx, pod); });
    if (!attached) {
      (void)co_await remove_pod_resources(ctx, pod);
      co_return tl::unexpected(attached.error());
    }
    crash_point(point("run_pod_sandbox.after_cni_add"));
    took(phase.with({"network"}));
  }

  if (ns.pid() == v1::POD) {
    auto init = co_await ctx.keeper->start_pod_init(pod.id());
    if (!init) {
      (void)co_await remove_pod_resources(ctx, pod);
      co_return tl::unexpected(init.error().context("start the pod's init"));
    }
    pod.set_init_pid(init->pid);
    ctx.processes.put(pod.id(), std::move(init->pidfd));
    crash_point(point("run_pod_sandbox.after_init"));
    took(phase.with({"init"}));
  }
  co_return result<void>{};
}

reactor::task<result<void>> release_pod_namespaces(context& ctx, const records::pod_sandbox& pod) {
  // The plugins need the namespace to undo their work in it: first.
  auto detached = co_await detach_pod_network(ctx, pod);
  if (!detached) co_return detached;
  if (pod.init_pid() > 0) {
    auto removed = co_await ctx.keeper->remove(pod.id());
    if (!removed) co_return tl::unexpected(removed.error().context("stop the pod's init"));
    ctx.processes.erase(pod.id());
  }
  if (pod.pod_dir().empty()) co_return result<void>{};
  std::filesystem::path dir = pod.pod_dir();
  auto released = co_await reactor::run_blocking([&] { return sandbox::release_namespaces(dir); });
  co_return released;
}

reactor::task<result<void>> remove_pod_resources(context& ctx, const records::pod_sandbox& pod) {
  auto released = co_await release_pod_namespaces(ctx, pod);
  if (!released) co_return released;
  co_return co_await reactor::run_blocking([&]() -> result<void> {
    if (!pod.pod_dir().empty()) {
      if (auto ok = sandbox::remove_pod_dir(pod.pod_dir()); !ok) return ok;
    }
    if (pod.owns_cgroup() && !pod.cgroup_path().empty()) {
      if (auto ok = ctx.cgroups->remove(pod.cgroup_path()); !ok) return ok;
      // "/ringcri/pod-<id>": the parent goes too once it is empty. A plain
      // rmdir per hierarchy, which fails harmlessly while other pods are in it.
      if (pod.config().linux().cgroup_parent().empty()) {
        for (const auto& procs : ctx.cgroups->procs_files(default_pod_cgroup_root(ctx.cfg.cgroup_driver)))
          (void)::rmdir(std::filesystem::path(procs).parent_path().c_str());
      }
    }
    return {};
  });
}

}  // namespace ringcri::cri
