#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cri/records_io.hpp"
#include "cri/rpc/handlers.hpp"
#include "cri/spec/resources.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::cri::rpc {

// Writes the new limits into the container's cgroup while it runs (or
// before it starts), then keeps them in its record, so ContainerStatus
// reports them and a restart knows them. Fields the request leaves zero
// keep their value.
task<result<void>> update_container_resources(context& ctx, const v1::UpdateContainerResourcesRequest& req,
                                              v1::UpdateContainerResourcesResponse&) {
  auto id = ctx.state.resolve_container(req.container_id());
  if (!id) co_return tl::unexpected(id.error());
  auto c = ctx.state.get_container(*id);
  if (!c) co_return fail(error_kind::not_found, fmt::format("container \"{}\" not found", req.container_id()));
  const std::string what = fmt::format("update resources of container \"{}\"", id->value);
  if (c->state() != v1::CONTAINER_CREATED && c->state() != v1::CONTAINER_RUNNING)
    co_return fail(error_kind::failed_precondition,
                   fmt::format("{}: it is {}, not created or running", what, v1::ContainerState_Name(c->state())));

  auto limits = spec::container_resources(req.linux(), 0);
  if (!limits) co_return tl::unexpected(limits.error().context(what));
  const std::string cgroup = c->cgroup_path();
  auto applied = co_await reactor::run_blocking([&] { return ctx.cgroups->apply(cgroup, *limits); });
  if (!applied) co_return tl::unexpected(applied.error().context(what));

  auto merged = spec::merge_resources(c->config().linux().resources(), req.linux());
  auto updated = ctx.state.amend_container(*id, [&](records::container& r) {
    *r.mutable_config()->mutable_linux()->mutable_resources() = merged;
  });
  if (!updated) co_return tl::unexpected(updated.error());
  if (auto saved = co_await persist(ctx, *updated); !saved) co_return tl::unexpected(saved.error().context(what));
  spdlog::info("msg=\"container resources updated\" id={}", id->value);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
