#pragma once
// The awaitable operations. Each returns an op to co_await on a reactor
// thread; the result is the kernel's: a count, an fd, or 0, or the errno
// the call failed with. Buffers and paths must stay valid until the op
// completes (they live in the awaiting coroutine's frame).
//
//   auto n = co_await reactor::read(fd, buf, off);
//   if (!n) return error(n.error());

#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "reactor/op.hpp"

namespace ringcri::reactor {

op nop();

op read(int fd, std::span<std::byte> buf, std::uint64_t offset = -1);
op write(int fd, std::span<const std::byte> buf, std::uint64_t offset = -1);
op readv(int fd, std::span<const iovec> iov, std::uint64_t offset = -1);
op writev(int fd, std::span<const iovec> iov, std::uint64_t offset = -1);

op recv(int fd, std::span<std::byte> buf, int flags = 0);
op send(int fd, std::span<const std::byte> buf, int flags = MSG_NOSIGNAL);
op recvmsg(int fd, msghdr* msg, int flags = 0);
op sendmsg(int fd, const msghdr* msg, int flags = MSG_NOSIGNAL);
op accept(int fd, sockaddr* addr = nullptr, socklen_t* addrlen = nullptr,
          int flags = SOCK_CLOEXEC);
op connect(int fd, const sockaddr* addr, socklen_t addrlen);
op socket(int domain, int type, int protocol = 0);
op shutdown(int fd, int how);

op openat(int dirfd, const char* path, int flags, mode_t mode = 0);
op openat2(int dirfd, const char* path, const open_how* how);
op close(int fd);
op statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* out);
op mkdirat(int dirfd, const char* path, mode_t mode);
op renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
            unsigned flags = 0);
op unlinkat(int dirfd, const char* path, int flags = 0);
op symlinkat(const char* target, int newdirfd, const char* linkpath);
op linkat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, int flags = 0);
op fsync(int fd, bool data_only = false);
op splice(int fd_in, std::int64_t off_in, int fd_out, std::int64_t off_out, unsigned len,
          unsigned flags = 0);

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT...); the result
// is the ready mask.
op poll(int fd, unsigned events);

// Waits for the process behind `pidfd` to exit and reaps it (IORING_OP_WAITID);
// `info` receives si_code (CLD_EXITED, CLD_KILLED...) and si_status.
op waitid(int pidfd, siginfo_t* info, int options = WEXITED);

// Timers: complete with 0 when the time comes, ECANCELED when cancelled.
op sleep_until(clock::time_point when);
template <class Rep, class Period>
op sleep_for(std::chrono::duration<Rep, Period> d) {
  return sleep_until(clock::now() + std::chrono::duration_cast<clock::duration>(d));
}

}  // namespace ringcri::reactor
