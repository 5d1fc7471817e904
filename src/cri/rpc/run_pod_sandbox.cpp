#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "base/crash_point.hpp"
#include "cri/events.hpp"
#include "cri/intents.hpp"
#include "cri/pod_resources.hpp"
#include "cri/records_io.hpp"
#include "cri/rpc/handlers.hpp"
#include "cri/spec/apparmor.hpp"
#include "cri/spec/sysctls.hpp"
#include "cri/spec/user_namespace.hpp"
#include "metrics/daemon_metrics.hpp"

namespace ringcri::cri::rpc {

task<result<void>> run_pod_sandbox(context& ctx, const v1::RunPodSandboxRequest& req,
                                   v1::RunPodSandboxResponse& resp) {
  const auto& config = req.config();
  if (config.metadata().name().empty())
    co_return fail(error_kind::invalid_argument, "RunPodSandbox: config.metadata.name is empty");
  if (!ctx.cfg.runtime_handler(req.runtime_handler()))
    co_return fail(error_kind::not_found,
                   fmt::format("RunPodSandbox: runtime handler \"{}\" is not configured (the "
                               "default is \"\" or \"{}\"; others come from [runtimes.\"<name>\"])",
                               req.runtime_handler(), config::default_runtime_handler));
  const auto& pod_sc = config.linux().security_context();
  if (auto ok = spec::check_apparmor(pod_sc.has_apparmor() ? &pod_sc.apparmor() : nullptr, {}); !ok)
    co_return tl::unexpected(std::move(ok.error()).context("RunPodSandbox"));
  // A user namespace asked for wrongly is refused before anything is made.
  auto userns = spec::user_namespace_of(config.linux().security_context().namespace_options());
  if (!userns) co_return tl::unexpected(std::move(userns.error()).context("RunPodSandbox"));
  if (*userns && !ctx.user_namespaces)
    co_return fail(
        error_kind::failed_precondition,
        "RunPodSandbox: this node cannot run pods in user namespaces (no idmapped mounts on "
        "its root dir or tmpfs; see the daemon's start-up log)");
  // Every container of the pod sets its sysctls; refuse bad ones now.
  if (auto sysctls = spec::pod_sysctls(config); !sysctls)
    co_return tl::unexpected(std::move(sysctls.error()).context("RunPodSandbox"));

  records::pod_sandbox pod;
  pod.set_id(state::new_id());
  *pod.mutable_config() = config;
  pod.set_state(v1::SANDBOX_READY);
  pod.set_created_at(now_ns());
  pod.set_runtime_handler(req.runtime_handler());

  auto t0 = std::chrono::steady_clock::now();
  auto made = co_await make_pod_resources(ctx, pod);
  if (!made) {
    co_await drop_pod_intent(ctx, pod.id());
    co_return tl::unexpected(
        made.error().context(fmt::format("run pod sandbox \"{}\"", config.metadata().name())));
  }

  // The name is taken here, after the work: a second pod of the same name
  // loses the race, undoes its own work and names the winner.
  if (auto added = ctx.state.add_pod(pod); !added) {
    (void)co_await remove_pod_resources(ctx, pod);
    co_await drop_pod_intent(ctx, pod.id());
    co_return tl::unexpected(added.error());
  }
  auto t1 = std::chrono::steady_clock::now();
  if (auto saved = co_await persist(ctx, pod); !saved) {
    (void)ctx.state.remove_pod(sandbox_id{pod.id()});
    (void)co_await remove_pod_resources(ctx, pod);
    co_await drop_pod_intent(ctx, pod.id());
    co_return tl::unexpected(saved.error().context("save pod sandbox record"));
  }
  metrics::pod_start_phase().with({"record"}).observe(std::chrono::steady_clock::now() - t1);
  crash_point(point("run_pod_sandbox.after_record"));
  co_await drop_pod_intent(ctx, pod.id());
  // A pod has no process of its own: created and started at once.
  publish_pod_event(ctx, pod, v1::CONTAINER_CREATED_EVENT);
  publish_pod_event(ctx, pod, v1::CONTAINER_STARTED_EVENT);
  auto us = [](auto d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); };
  spdlog::info("msg=\"pod sandbox ready\" id={} name={} namespace={} resources_us={} save_us={}", pod.id(),
               config.metadata().name(), config.metadata().namespace_(), us(t1 - t0),
               us(std::chrono::steady_clock::now() - t1));
  resp.set_pod_sandbox_id(pod.id());
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
