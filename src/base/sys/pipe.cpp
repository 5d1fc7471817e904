#include "base/sys/pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace ringcri::sys {

namespace {

result<void> set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return fail_errno(errno, "make a pipe end non-blocking");
  return {};
}

}  // namespace

result<pipe_fds> make_pipe(nonblocking_end nonblocking) {
  int fds[2];
  const int flags = O_CLOEXEC | (nonblocking == nonblocking_end::both ? O_NONBLOCK : 0);
  if (::pipe2(fds, flags) != 0) return fail_errno(errno, "create a pipe");
  pipe_fds p{unique_fd(fds[0]), unique_fd(fds[1])};
  if (nonblocking == nonblocking_end::read || nonblocking == nonblocking_end::write) {
    int end = nonblocking == nonblocking_end::read ? p.read.get() : p.write.get();
    if (auto ok = set_nonblocking(end); !ok) return tl::unexpected(std::move(ok.error()));
  }
  return p;
}

}  // namespace ringcri::sys
