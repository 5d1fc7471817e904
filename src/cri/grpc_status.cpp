#include "cri/grpc_status.hpp"

namespace ringcri::cri {

grpc::StatusCode status_code_of(error_kind kind) {
  switch (kind) {
    case error_kind::invalid_argument: return grpc::StatusCode::INVALID_ARGUMENT;
    case error_kind::not_found: return grpc::StatusCode::NOT_FOUND;
    case error_kind::already_exists: return grpc::StatusCode::ALREADY_EXISTS;
    case error_kind::failed_precondition: return grpc::StatusCode::FAILED_PRECONDITION;
    case error_kind::unavailable: return grpc::StatusCode::UNAVAILABLE;
    case error_kind::deadline_exceeded: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case error_kind::cancelled: return grpc::StatusCode::CANCELLED;
    case error_kind::unimplemented: return grpc::StatusCode::UNIMPLEMENTED;
    case error_kind::resource_exhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case error_kind::permission_denied: return grpc::StatusCode::PERMISSION_DENIED;
    case error_kind::internal: return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::UNKNOWN;
}

grpc::Status to_status(const error& e) { return grpc::Status(status_code_of(e.kind()), e.message()); }

}  // namespace ringcri::cri
