#pragma once
// Ordered writes to one client socket from several coroutines of one
// reactor (output pumps, replies, the status at the end). Bytes queued by
// send() go out in call order, never interleaved. A slow client slows its
// producers: send() waits while more than a megabyte is queued.

#include <optional>
#include <string>

#include "base/error.hpp"
#include "reactor/condition.hpp"
#include "reactor/task.hpp"

namespace ringcri::stream {

class socket_writer {
 public:
  explicit socket_writer(int fd) : fd_(fd) {}

  // Queues `bytes` (already framed) and returns once they are written or
  // queued behind a writer with room to spare. Fails once any write
  // failed: the client is gone.
  reactor::task<result<void>> send(std::string bytes);
  // Waits until everything queued is written (or a write failed).
  reactor::task<result<void>> flush();
  bool failed() const noexcept { return failed_.has_value(); }

  static constexpr std::size_t high_water = 1u << 20;

 private:
  int fd_;
  std::string queued_;
  bool writing_ = false;
  std::optional<error> failed_;
  reactor::condition progress_;
};

}  // namespace ringcri::stream
