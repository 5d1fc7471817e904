#include "cri/dispatch.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace ringcri::cri {

result<container_and_pod> pod_of_container(const runtime_state& state, std::string_view id_or_prefix) {
  auto id = state.resolve_container(id_or_prefix);
  if (!id) return tl::unexpected(id.error());
  auto c = state.get_container(*id);
  // Removed between the two looks.
  if (!c)
    return fail(error_kind::not_found, fmt::format("container \"{}\" not found", id_or_prefix));
  return container_and_pod{*id, sandbox_id{c->pod_sandbox_id()}};
}

result<target> target_of_lookup(context& ctx, const result<sandbox_id>& pod, unknown_id if_unknown,
                                turn_kind turn, std::string container) {
  if (pod) return target{ctx.core_of(*pod), turn, pod->value, std::move(container)};
  if (if_unknown == unknown_id::answer_now) return tl::unexpected(pod.error());
  return target{ctx.any_core(), turn_kind::none, {}, {}};
}

reactor::task<std::vector<reactor::turns::turn>> take_turns(context& ctx, const target& t) {
  std::vector<reactor::turns::turn> held;
  if (t.turn == turn_kind::none || t.pod.empty()) co_return held;
  reactor::turns& turns = ctx.turns[t.core];
  // Pod first, then container: one order for every RPC, so no two wait on
  // each other.
  // Named awaiters: g++ 12 destroys a co_await operand's temporaries twice
  // when they have destructors.
  if (t.turn == turn_kind::pod) {
    auto whole = turns.exclusive("pod/" + t.pod);
    held.push_back(co_await whole);
    co_return held;
  }
  auto pod = turns.shared("pod/" + t.pod);
  held.push_back(co_await pod);
  if (t.turn == turn_kind::container && !t.container.empty()) {
    auto alone = turns.exclusive("container/" + t.container);
    held.push_back(co_await alone);
  }
  co_return held;
}

grpc::Status not_built_status(std::string_view method, std::string_view why) {
  return to_status(error(error_kind::unimplemented, fmt::format("{}: {}", method, why)));
}

std::vector<int> method_indices(std::string_view service, std::span<const route> table) {
  const auto* api =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(std::string(service));
  if (!api)
    throw std::logic_error(fmt::format("routing table: no service {} in api.proto", service));

  std::vector<std::string> problems;
  std::vector<int> indices;
  std::vector<bool> routed(static_cast<std::size_t>(api->method_count()), false);
  for (const route& r : table) {
    const auto* m = api->FindMethodByName(std::string(r.method));
    if (!m) {
      problems.push_back(fmt::format("a row for {}, which api.proto does not have", r.method));
      indices.push_back(-1);
      continue;
    }
    if (routed[static_cast<std::size_t>(m->index())])
      problems.push_back(fmt::format("two rows for {}", r.method));
    routed[static_cast<std::size_t>(m->index())] = true;
    if (m->input_type() != r.request || m->output_type() != r.response)
      problems.push_back(fmt::format("{} takes {} and answers {}, its row {} and {}", r.method,
                                     m->input_type()->full_name(), m->output_type()->full_name(),
                                     r.request->full_name(), r.response->full_name()));
    if (m->client_streaming() || m->server_streaming() != r.server_streaming)
      problems.push_back(fmt::format("{} is {}, its row {}", r.method,
                                     m->client_streaming()   ? "client-streaming"
                                     : m->server_streaming() ? "server-streaming"
                                                             : "unary",
                                     r.server_streaming ? "server-streaming" : "unary"));
    indices.push_back(m->index());
  }
  for (int i = 0; i < api->method_count(); ++i)
    if (!routed[static_cast<std::size_t>(i)])
      problems.push_back(fmt::format("no row for {}", api->method(i)->name()));
  if (!problems.empty())
    throw std::logic_error(
        fmt::format("routing table of {}: {}", service, fmt::join(problems, "; ")));
  return indices;
}

}  // namespace ringcri::cri
