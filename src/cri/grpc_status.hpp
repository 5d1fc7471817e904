#pragma once
// The one place where an error becomes a gRPC status.

#include <grpcpp/support/status.h>

#include "base/error.hpp"

namespace ringcri::cri {

grpc::StatusCode status_code_of(error_kind kind);
grpc::Status to_status(const error& e);

}  // namespace ringcri::cri
