#pragma once
// runtime.v1.RuntimeService: one routing table (runtime_service.cpp) with a
// row per RPC, naming the reactor that runs it and the handler (rpc/*.cpp)
// that answers, or why it is not offered.

#include <vector>

#include "api.grpc.pb.h"
#include "cri/context.hpp"
#include "cri/dispatch.hpp"

namespace ringcri::cri {

class runtime_service final : public routed_service<::runtime::v1::RuntimeService> {
 public:
  explicit runtime_service(context& ctx) : routed_service(ctx, routes()) {}

  // One row per RPC of the service in api.proto.
  static std::vector<route> routes();
};

}  // namespace ringcri::cri
