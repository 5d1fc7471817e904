#include "base/error.hpp"

#include <fmt/format.h>

namespace ringcri {

std::string_view to_string(error_kind kind) {
  switch (kind) {
    case error_kind::internal: return "internal";
    case error_kind::invalid_argument: return "invalid argument";
    case error_kind::not_found: return "not found";
    case error_kind::already_exists: return "already exists";
    case error_kind::failed_precondition: return "failed precondition";
    case error_kind::unavailable: return "unavailable";
    case error_kind::deadline_exceeded: return "deadline exceeded";
    case error_kind::cancelled: return "cancelled";
    case error_kind::unimplemented: return "unimplemented";
    case error_kind::resource_exhausted: return "resource exhausted";
    case error_kind::permission_denied: return "permission denied";
  }
  return "unknown";
}

static error_kind kind_of_errno(int e) {
  switch (e) {
    case ENOENT: return error_kind::not_found;
    case EEXIST: return error_kind::already_exists;
    case EINVAL: case ENAMETOOLONG: case ELOOP: case EXDEV:
      return error_kind::invalid_argument;
    case EACCES: case EPERM: return error_kind::permission_denied;
    case ENOSPC: case EMFILE: case ENFILE: case ENOMEM: case EDQUOT:
      return error_kind::resource_exhausted;
    case ETIMEDOUT: case ETIME: return error_kind::deadline_exceeded;
    case ECANCELED: return error_kind::cancelled;
    case ECONNREFUSED: case ECONNRESET: case EHOSTUNREACH: case ENETUNREACH:
    case EPIPE: return error_kind::unavailable;
    default: return error_kind::internal;
  }
}

error error::from_errno(int sys_errno, std::string_view what) {
  return error(kind_of_errno(sys_errno),
               fmt::format("{}: {}", what, std::strerror(sys_errno)), sys_errno);
}

error error::from_error_code(std::error_code ec, std::string_view what) {
  if (ec.category() == std::system_category() || ec.category() == std::generic_category())
    return from_errno(ec.value(), what);
  return error(error_kind::internal, fmt::format("{}: {}", what, ec.message()));
}

error& error::context(std::string_view what) & {
  message_ = fmt::format("{}: {}", what, message_);
  return *this;
}

error&& error::context(std::string_view what) && {
  message_ = fmt::format("{}: {}", what, message_);
  return std::move(*this);
}

}  // namespace ringcri
