#pragma once
// Hands a unary RPC from gRPC's thread to a reactor. The handler runs as a
// task on that reactor and Finish() is called from there; the gRPC thread
// only picks the reactor and posts.

#include <exception>

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "cri/context.hpp"
#include "cri/grpc_status.hpp"
#include "reactor/reactor.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

template <class Request, class Response>
using unary_handler = reactor::task<result<void>> (*)(context&, const Request&, Response&);

namespace detail {

template <class Request, class Response>
reactor::task<void> run_unary(context& ctx, grpc::ServerUnaryReactor* call, const Request* request,
                              Response* response, unary_handler<Request, Response> handler) {
  grpc::Status status;
  try {
    result<void> out = co_await handler(ctx, *request, *response);
    if (!out) status = to_status(out.error());
  } catch (const std::exception& e) {
    // A bug, not the client's fault: answer, log, keep serving.
    spdlog::error("msg=\"handler threw\" rpc={} error=\"{}\"", Request::descriptor()->name(), e.what());
    status = grpc::Status(grpc::StatusCode::INTERNAL, e.what());
  }
  call->Finish(status);
}

}  // namespace detail

template <class Request, class Response>
grpc::ServerUnaryReactor* dispatch(context& ctx, grpc::CallbackServerContext* call_ctx,
                                   const Request* request, Response* response, unsigned core,
                                   unary_handler<Request, Response> handler) {
  grpc::ServerUnaryReactor* call = call_ctx->DefaultReactor();
  ctx.pool.post(core, [&ctx, call, request, response, handler] {
    reactor::reactor::current()->spawn(detail::run_unary(ctx, call, request, response, handler));
  });
  return call;
}

// Answers at once from the gRPC thread (no work to do: an early error).
inline grpc::ServerUnaryReactor* finish_now(grpc::CallbackServerContext* call_ctx, const error& e) {
  grpc::ServerUnaryReactor* call = call_ctx->DefaultReactor();
  call->Finish(to_status(e));
  return call;
}

// A server-streaming call that ends at once with `e`.
template <class Response>
grpc::ServerWriteReactor<Response>* finish_stream_now(const error& e) {
  class ended : public grpc::ServerWriteReactor<Response> {
   public:
    explicit ended(const error& e) { this->Finish(to_status(e)); }
    void OnDone() override { delete this; }
  };
  return new ended(e);
}

}  // namespace ringcri::cri
