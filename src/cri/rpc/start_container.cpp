#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/crash_point.hpp"
#include "cri/container_process.hpp"
#include "cri/events.hpp"
#include "cri/keeper_link.hpp"
#include "cri/records_io.hpp"
#include "cri/rpc/handlers.hpp"
#include "cri/state/transitions.hpp"

namespace ringcri::cri::rpc {

namespace {

task<void> save_in_background(context& ctx, records::container record) {
  if (auto saved = co_await persist(ctx, record); !saved)
    spdlog::error("msg=\"start not saved\" container={} error=\"{}\"", record.id(), saved.error().message());
  crash_point(point("start_container.after_record"));
}

}  // namespace

// The process was set up at create and waits in the keeper: starting it is
// one message and an execve.
task<result<void>> start_container(context& ctx, const v1::StartContainerRequest& req,
                                   v1::StartContainerResponse&) {
  auto id = ctx.state.resolve_container(req.container_id());
  if (!id) co_return tl::unexpected(id.error());
  auto c = ctx.state.get_container(*id);
  if (!c) co_return fail(error_kind::not_found, fmt::format("container \"{}\" not found", req.container_id()));
  if (c->state() != v1::CONTAINER_CREATED)
    co_return fail(error_kind::failed_precondition,
                   fmt::format("container \"{}\" is {}, not CREATED", id->value, state::state_name(c->state())));
  auto pod = ctx.state.get_pod(sandbox_id{c->pod_sandbox_id()});
  if (!pod || pod->state() != v1::SANDBOX_READY)
    co_return fail(error_kind::failed_precondition,
                   fmt::format("pod sandbox \"{}\" of container \"{}\" is not ready", c->pod_sandbox_id(), id->value));

  auto started = co_await ctx.keeper->start(id->value);
  if (!started && started.error().kind() == error_kind::unavailable) {
    // The keeper ended under the start: whether or not the exec happened,
    // nobody holds the container's output any more.
    co_await lose_with_keeper(ctx, *id);
    co_return tl::unexpected(started.error().context(fmt::format("start container \"{}\"", id->value)));
  }
  if (!started) {
    // The exec failed: the container is over, and says why.
    auto failed = ctx.state.update_container(*id, v1::CONTAINER_EXITED, [&](records::container& r) {
      r.set_exit_code(128);
      r.set_finished_at(now_ns());
      r.set_reason("StartError");
      r.set_message(started.error().message());
      r.set_pid(0);
    });
    if (failed) (void)co_await persist(ctx, *failed);
    ctx.processes.erase(id->value);
    co_return tl::unexpected(started.error().context(fmt::format("start container \"{}\"", id->value)));
  }
  crash_point(point("start_container.after_keeper_start"));
  auto running = ctx.state.update_container(*id, v1::CONTAINER_RUNNING, [&](records::container& r) {
    r.set_started_at(started->started_at);
  });
  if (!running) {
    // Exited before we got here (a fast `true`): keep the start time.
    auto amended = ctx.state.amend_container(*id, [&](records::container& r) { r.set_started_at(started->started_at); });
    if (amended) (void)co_await persist(ctx, *amended);
    co_return result<void>{};
  }
  // Saved in the background: the keeper already knows the container
  // started (and when), and a daemon restarted before this record lands
  // learns it from the keeper (reattach.cpp). The store keeps writes of one
  // key in order, so a later exit is never overwritten by this one.
  ctx.pool.spawn(ctx.core_of(sandbox_id{c->pod_sandbox_id()}), [&ctx, record = *running]() {
    return save_in_background(ctx, record);
  });
  publish_container_event(ctx, *running, v1::CONTAINER_STARTED_EVENT);
  spdlog::debug("msg=\"container started\" id={}", id->value);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
