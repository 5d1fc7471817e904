#pragma once
// The end of a streaming connection. Closing a socket with the client's
// bytes still unread sends a reset, and a reset can make the client drop
// the last output and status it has not read yet. So we end our half
// first, let the reader take what the client still sends until it closes
// too, and only then (or after two seconds) shut the socket down whole.

#include <sys/socket.h>

#include <chrono>
#include <functional>

#include "reactor/condition.hpp"
#include "reactor/task.hpp"

namespace ringcri::stream {

// Marks a connection's reader finished, whichever way it returns.
struct reading_guard {
  bool& done;
  reactor::condition& changed;
  ~reading_guard() {
    done = true;
    changed.notify_all();
  }
};

inline reactor::task<void> linger(int fd, const bool& reading_done, reactor::condition& reading_changed) {
  ::shutdown(fd, SHUT_WR);
  std::function<bool()> done = [&] { return reading_done; };
  co_await reactor::wait_until(reading_changed, done, reactor::clock::now() + std::chrono::seconds(2));
  ::shutdown(fd, SHUT_RDWR);
}

}  // namespace ringcri::stream
