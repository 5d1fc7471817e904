#pragma once
// Every CRI call's time and answer, counted where gRPC hands the call over
// and sends its status (a server interceptor), so each RPC is measured the
// same way, whichever path answers it: a reactor, gRPC's thread, a stream.

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <vector>

namespace ringcri::cri {

// For grpc::ServerBuilder::experimental().SetInterceptorCreators.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> rpc_metrics_interceptors();

// "INVALID_ARGUMENT" for grpc::StatusCode::INVALID_ARGUMENT.
const char* status_code_name(int code);

}  // namespace ringcri::cri
