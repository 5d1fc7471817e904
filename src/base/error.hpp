#pragma once
// The project's error type: a kind (mapped to a gRPC status at the CRI
// boundary), the errno that caused it if any, and a message that grows
// context as it rises ("create container foo: mount /proc: EPERM").

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <tl/expected.hpp>

namespace ringcri {

enum class error_kind {
  internal,             // a bug or an unexpected system failure
  invalid_argument,     // the request is malformed
  not_found,            // the thing named does not exist
  already_exists,       // a name or id is taken
  failed_precondition,  // the thing is in the wrong state for the request
  unavailable,          // a dependency (registry, keeper) cannot be reached
  deadline_exceeded,    // a deadline passed
  cancelled,            // the caller gave up
  unimplemented,        // not built yet
  resource_exhausted,   // out of space, fds, memory
  permission_denied,
};

std::string_view to_string(error_kind kind);

class error {
 public:
  error(error_kind kind, std::string message, int sys_errno = 0)
      : kind_(kind), sys_errno_(sys_errno), message_(std::move(message)) {}

  // An error from a failed system call: the kind follows from the errno.
  static error from_errno(int sys_errno, std::string_view what);
  static error from_error_code(std::error_code ec, std::string_view what);

  error_kind kind() const { return kind_; }
  int sys_errno() const { return sys_errno_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with what was being done: "what: message".
  error& context(std::string_view what) &;
  error&& context(std::string_view what) &&;

 private:
  error_kind kind_;
  int sys_errno_;
  std::string message_;
};

template <class T>
using result = tl::expected<T, error>;

inline tl::unexpected<error> fail(error_kind kind, std::string message) {
  return tl::unexpected<error>(error(kind, std::move(message)));
}

inline tl::unexpected<error> fail_errno(int sys_errno, std::string_view what) {
  return tl::unexpected<error>(error::from_errno(sys_errno, what));
}

}  // namespace ringcri
