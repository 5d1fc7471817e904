#include "cri/exec_target.hpp"

#include <functional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cri/spec/exec_spec.hpp"
#include "cri/state/transitions.hpp"
#include "exec/spec_json.hpp"

namespace ringcri::cri {

reactor::task<void> output_readers::drain(int count) {
  std::function<bool()> all_done = [this, count] { return done >= count; };
  co_await reactor::wait_until(changed, all_done, reactor::clock::now() + grace);
  stop.cancel();
}

result<records::container> running_container(context& ctx, const std::string& container_id) {
  auto id = ctx.state.resolve_container(container_id);
  if (!id) return tl::unexpected(id.error());
  auto c = ctx.state.get_container(*id);
  if (!c) return fail(error_kind::not_found, fmt::format("container \"{}\" not found", container_id));
  if (c->state() != runtime::v1::CONTAINER_RUNNING)
    return fail(error_kind::failed_precondition,
                fmt::format("container \"{}\" is not running ({})", id->value, state::state_name(c->state())));
  return std::move(*c);
}

result<exec_target> exec_target_for(context& ctx, const std::string& container_id,
                                    const std::vector<std::string>& cmd) {
  auto c = running_container(ctx, container_id);
  if (!c) return tl::unexpected(c.error());
  if (cmd.empty()) return fail(error_kind::invalid_argument, "exec: cmd is empty");
  auto container = nlohmann::json::parse(c->spec_json(), nullptr, false);
  if (container.is_discarded())
    return fail(error_kind::internal, fmt::format("container \"{}\": its spec does not parse", c->id()));
  auto spec = spec::build_exec_spec(container.get<exec::container_spec>(), cmd);
  if (!spec) return tl::unexpected(spec.error());
  return exec_target{c->id(), static_cast<pid_t>(c->pid()), std::move(*spec)};
}

}  // namespace ringcri::cri
