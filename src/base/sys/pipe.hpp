#pragma once
// Pipes, each end with an owner.

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::sys {

struct pipe_fds {
  unique_fd read;
  unique_fd write;
};

// Which ends get O_NONBLOCK: often only ours, read or written on the ring
// or polled, while the end a child gets blocks as programs expect.
enum class nonblocking_end { none, read, write, both };

// pipe2(2), both ends O_CLOEXEC: a child gets an end only by a dup2 onto
// its stdio.
result<pipe_fds> make_pipe(nonblocking_end nonblocking = nonblocking_end::none);

}  // namespace ringcri::sys
