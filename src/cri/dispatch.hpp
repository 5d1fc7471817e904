#pragma once
// How a CRI call reaches its handler. Each service is one routing table
// (runtime_service.cpp, image_service.cpp) with a row per RPC: its name in
// api.proto, the reactor that runs it, and what answers it. gRPC's thread
// only resolves the id that picks the reactor and posts; the handler runs
// as a task on that reactor and Finish() is called from there.

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "cri/context.hpp"
#include "cri/grpc_status.hpp"
#include "reactor/reactor.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

template <class Request, class Response>
using unary_handler = reactor::task<result<void>> (*)(context&, const Request&, Response&);

// What a row does with a request whose pod or container id names nothing
// (or is empty, or a prefix of several).
enum class unknown_id {
  answer_now,       // the lookup's error (NOT_FOUND, INVALID_ARGUMENT), from gRPC's thread
  handler_answers,  // any reactor runs the handler, which decides (removal is idempotent)
};

// Which turn a lifecycle RPC waits for on its pod's reactor before its
// handler runs (a reactor::turns lock per pod and per container), so that
// the lifecycle RPCs of one pod do not interleave at their co_await points
// (a RemovePodSandbox running while the same pod's CreateContainer is
// suspended would leak the container it makes). Reads (status, lists,
// stats, exec) take none.
enum class turn_kind {
  none,
  pod,        // the whole pod, alone: StopPodSandbox, RemovePodSandbox
  pod_shared, // beside its siblings, never beside a whole-pod turn: CreateContainer
  container,  // pod_shared, and the container alone: Start, Stop, Remove, Update
};

// Which reactor runs a request. A pod's requests, and its containers',
// all run on the pod's reactor, so they never race each other.
struct any_core {};  // the request names no pod: round-robin
struct pod_core {    // the reactor of the pod `pod_sandbox_id` names
  unknown_id if_unknown;
  turn_kind turn = turn_kind::none;
};
struct container_core {  // the reactor of the pod of the container `container_id` names
  unknown_id if_unknown;
  turn_kind turn = turn_kind::none;
};

// Where a request runs, and what it waits its turn on there.
struct target {
  unsigned core = 0;
  turn_kind turn = turn_kind::none;
  std::string pod;        // full ids, when known
  std::string container;
};

// The container `id_or_prefix` names and its pod: its id resolved, then its
// record read (a copy, under the state's shared lock).
struct container_and_pod {
  container_id container;
  sandbox_id pod;
};
result<container_and_pod> pod_of_container(const runtime_state& state, std::string_view id_or_prefix);

// The target of a request about `pod` (and `container`); when the lookup
// failed, its error or any reactor with no turn.
result<target> target_of_lookup(context& ctx, const result<sandbox_id>& pod, unknown_id if_unknown,
                                turn_kind turn, std::string container = {});

template <class Request>
result<target> target_for(context& ctx, any_core, const Request&) {
  return target{ctx.any_core(), turn_kind::none, {}, {}};
}

template <class Request>
result<target> target_for(context& ctx, pod_core where, const Request& request) {
  return target_of_lookup(ctx, ctx.state.resolve_pod(request.pod_sandbox_id()), where.if_unknown,
                          where.turn);
}

template <class Request>
result<target> target_for(context& ctx, container_core where, const Request& request) {
  auto found = pod_of_container(ctx.state, request.container_id());
  if (!found) return target_of_lookup(ctx, tl::unexpected(found.error()), where.if_unknown, where.turn);
  return target_of_lookup(ctx, found->pod, where.if_unknown, where.turn, found->container.value);
}

// On the target's reactor: waits for the turns `t` asks for.
reactor::task<std::vector<reactor::turns::turn>> take_turns(context& ctx, const target& t);

namespace detail {

template <class Request, class Response>
reactor::task<void> run_unary(context& ctx, grpc::ServerUnaryReactor* call, const Request* request,
                              Response* response, target where,
                              unary_handler<Request, Response> handler) {
  grpc::Status status;
  try {
    auto held = co_await take_turns(ctx, where);
    result<void> out = co_await handler(ctx, *request, *response);
    if (!out) status = to_status(out.error());
  } catch (const std::exception& e) {
    // A bug, not the client's fault: answer, log, keep serving.
    spdlog::error("msg=\"handler threw\" rpc={} error=\"{}\"", Request::descriptor()->name(),
                  e.what());
    status = grpc::Status(grpc::StatusCode::INTERNAL, e.what());
  }
  call->Finish(status);
  ctx.calls_running.fetch_sub(1, std::memory_order_release);
}

}  // namespace detail

template <class Request, class Response>
grpc::ServerUnaryReactor* dispatch(context& ctx, grpc::CallbackServerContext* call_ctx,
                                   const Request* request, Response* response, target where,
                                   unary_handler<Request, Response> handler) {
  grpc::ServerUnaryReactor* call = call_ctx->DefaultReactor();
  const unsigned core = where.core;
  ctx.calls_running.fetch_add(1, std::memory_order_relaxed);
  ctx.pool.post(core, [&ctx, call, request, response, where = std::move(where), handler] {
    reactor::reactor::current()->spawn(
        detail::run_unary(ctx, call, request, response, where, handler));
  });
  return call;
}

// Answers at once from gRPC's thread (no work to do: an early error).
inline grpc::ServerUnaryReactor* finish_now(grpc::CallbackServerContext* call_ctx,
                                            const grpc::Status& status) {
  grpc::ServerUnaryReactor* call = call_ctx->DefaultReactor();
  call->Finish(status);
  return call;
}

// A server-streaming call that ends at once with `status`.
template <class Response>
grpc::ServerWriteReactor<Response>* finish_stream_now(const grpc::Status& status) {
  class ended : public grpc::ServerWriteReactor<Response> {
   public:
    explicit ended(const grpc::Status& s) { this->Finish(s); }
    void OnDone() override { delete this; }
  };
  return new ended(status);
}

// One row of a service's routing table. The descriptors and the kind are
// checked against api.proto when the service is built.
struct route {
  std::string_view method;  // its name in api.proto
  const google::protobuf::Descriptor* request;
  const google::protobuf::Descriptor* response;
  bool server_streaming;
  // The gRPC handler of the method; the service owns it.
  std::function<grpc::internal::MethodHandler*(context&)> make_handler;
};

// A unary RPC run by `handler` on the reactor `where` picks.
template <class Where, class Request, class Response>
route unary(std::string_view method, Where where, unary_handler<Request, Response> handler) {
  return {method, Request::descriptor(), Response::descriptor(), false,
          [where, handler](context& ctx) {
            return new grpc::internal::CallbackUnaryHandler<Request, Response>(
                [&ctx, where, handler](grpc::CallbackServerContext* call, const Request* request,
                                       Response* response) -> grpc::ServerUnaryReactor* {
                  auto t = target_for(ctx, where, *request);
                  if (!t) return finish_now(call, to_status(t.error()));
                  return dispatch(ctx, call, request, response, std::move(*t), handler);
                });
          }};
}

// The UNIMPLEMENTED answer of an RPC ringcri does not offer: "<method>: <why>".
grpc::Status not_built_status(std::string_view method, std::string_view why);

// A unary RPC answered UNIMPLEMENTED at once, saying why.
template <class Request, class Response>
route not_built(std::string_view method, std::string_view why) {
  return {method, Request::descriptor(), Response::descriptor(), false,
          [status = not_built_status(method, why)](context&) {
            return new grpc::internal::CallbackUnaryHandler<Request, Response>(
                [status](grpc::CallbackServerContext* call, const Request*, Response*) {
                  return finish_now(call, status);
                });
          }};
}

// A server-streaming RPC answered UNIMPLEMENTED at once, saying why.
template <class Request, class Response>
route stream_not_built(std::string_view method, std::string_view why) {
  return {method, Request::descriptor(), Response::descriptor(), true,
          [status = not_built_status(method, why)](context&) {
            return new grpc::internal::CallbackServerStreamingHandler<Request, Response>(
                [status](grpc::CallbackServerContext*, const Request*) {
                  return finish_stream_now<Response>(status);
                });
          }};
}

// A server-streaming RPC served by the write reactor `open` makes (gRPC
// calls its OnDone, which frees it).
template <class Request, class Response>
route stream(std::string_view method,
             grpc::ServerWriteReactor<Response>* (*open)(context&, const Request&)) {
  return {method, Request::descriptor(), Response::descriptor(), true, [open](context& ctx) {
            return new grpc::internal::CallbackServerStreamingHandler<Request, Response>(
                [&ctx, open](grpc::CallbackServerContext*, const Request* request) {
                  return open(ctx, *request);
                });
          }};
}

// For each row of `table`, the index gRPC's generated code gives its
// method (the method's place in the service in api.proto). Throws
// std::logic_error, naming every mismatch, unless the table has exactly one
// row per method of `service`, each with the method's types and kind.
std::vector<int> method_indices(std::string_view service, std::span<const route> table);

// A generated service (`Api::Service`) whose every method is served by a
// row of its table, registered as a callback method: the generated virtual
// methods are never called.
template <class Api>
class routed_service : public Api::Service {
 protected:
  routed_service(context& ctx, const std::vector<route>& table) {
    std::vector<int> indices = method_indices(Api::service_full_name(), table);
    for (std::size_t i = 0; i < table.size(); ++i)
      this->MarkMethodCallback(indices[i], table[i].make_handler(ctx));
  }
};

}  // namespace ringcri::cri
