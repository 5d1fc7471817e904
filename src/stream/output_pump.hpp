#pragma once
// Copies a process's output (a pipe or a pty master) to the client until
// end of file, or until `stop` is cancelled; fd -1: nothing to copy. Once the client is gone the
// output is still read, and dropped, so the process never blocks on a
// full pipe.

#include <functional>
#include <string_view>

#include "base/error.hpp"
#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::stream {

using output_sink = std::function<reactor::task<result<void>>(std::string_view)>;

// A pty master reads EIO once its terminal is closed: end of file too.
reactor::task<void> pump_output(int fd, const output_sink& sink, reactor::cancellation& stop);

// Writes all of `data` to a socket, pipe or pty master, however many
// writes that takes (waiting on a non-blocking one). Fails once the reader
// is gone (EPIPE) or a write failed.
reactor::task<result<void>> write_all(int fd, std::string_view data);

}  // namespace ringcri::stream
