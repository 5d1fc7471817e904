// Builds the SQE of each op with liburing's helpers. The op carries it by
// value; reactor.cpp copies it into the ring on submission.
// An op of a new opcode goes into ring_probe.cpp's list too (ringcri check).

#include "reactor/ops.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/wait.h>

namespace ringcri::reactor {

namespace {

// Opcodes newer than Debian's liburing 2.3 headers.
constexpr std::uint8_t op_waitid = 50;

io_uring_sqe blank() {
  io_uring_sqe sqe{};
  return sqe;
}

}  // namespace

op nop() {
  io_uring_sqe sqe = blank();
  io_uring_prep_nop(&sqe);
  return op(sqe);
}

op read(int fd, std::span<std::byte> buf, std::uint64_t offset) {
  io_uring_sqe sqe = blank();
  io_uring_prep_read(&sqe, fd, buf.data(), static_cast<unsigned>(buf.size()), offset);
  return op(sqe);
}

op write(int fd, std::span<const std::byte> buf, std::uint64_t offset) {
  io_uring_sqe sqe = blank();
  io_uring_prep_write(&sqe, fd, buf.data(), static_cast<unsigned>(buf.size()), offset);
  return op(sqe);
}

op readv(int fd, std::span<const iovec> iov, std::uint64_t offset) {
  io_uring_sqe sqe = blank();
  io_uring_prep_readv(&sqe, fd, iov.data(), static_cast<unsigned>(iov.size()), offset);
  return op(sqe);
}

op writev(int fd, std::span<const iovec> iov, std::uint64_t offset) {
  io_uring_sqe sqe = blank();
  io_uring_prep_writev(&sqe, fd, iov.data(), static_cast<unsigned>(iov.size()), offset);
  return op(sqe);
}

op recv(int fd, std::span<std::byte> buf, int flags) {
  io_uring_sqe sqe = blank();
  io_uring_prep_recv(&sqe, fd, buf.data(), buf.size(), flags);
  return op(sqe);
}

op send(int fd, std::span<const std::byte> buf, int flags) {
  io_uring_sqe sqe = blank();
  io_uring_prep_send(&sqe, fd, buf.data(), buf.size(), flags);
  return op(sqe);
}

op recvmsg(int fd, msghdr* msg, int flags) {
  io_uring_sqe sqe = blank();
  io_uring_prep_recvmsg(&sqe, fd, msg, static_cast<unsigned>(flags));
  return op(sqe);
}

op sendmsg(int fd, const msghdr* msg, int flags) {
  io_uring_sqe sqe = blank();
  io_uring_prep_sendmsg(&sqe, fd, msg, static_cast<unsigned>(flags));
  return op(sqe);
}

op accept(int fd, sockaddr* addr, socklen_t* addrlen, int flags) {
  io_uring_sqe sqe = blank();
  io_uring_prep_accept(&sqe, fd, addr, addrlen, flags);
  return op(sqe);
}

op connect(int fd, const sockaddr* addr, socklen_t addrlen) {
  io_uring_sqe sqe = blank();
  io_uring_prep_connect(&sqe, fd, addr, addrlen);
  return op(sqe);
}

op socket(int domain, int type, int protocol) {
  io_uring_sqe sqe = blank();
  io_uring_prep_socket(&sqe, domain, type, protocol, 0);
  return op(sqe);
}

op shutdown(int fd, int how) {
  io_uring_sqe sqe = blank();
  io_uring_prep_shutdown(&sqe, fd, how);
  return op(sqe);
}

op openat(int dirfd, const char* path, int flags, mode_t mode) {
  io_uring_sqe sqe = blank();
  io_uring_prep_openat(&sqe, dirfd, path, flags, mode);
  return op(sqe);
}

op openat2(int dirfd, const char* path, const open_how* how) {
  io_uring_sqe sqe = blank();
  io_uring_prep_openat2(&sqe, dirfd, path, const_cast<open_how*>(how));
  return op(sqe);
}

op close(int fd) {
  io_uring_sqe sqe = blank();
  io_uring_prep_close(&sqe, fd);
  return op(sqe);
}

op statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* out) {
  io_uring_sqe sqe = blank();
  io_uring_prep_statx(&sqe, dirfd, path, flags, mask, out);
  return op(sqe);
}

op mkdirat(int dirfd, const char* path, mode_t mode) {
  io_uring_sqe sqe = blank();
  io_uring_prep_mkdirat(&sqe, dirfd, path, mode);
  return op(sqe);
}

op renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
            unsigned flags) {
  io_uring_sqe sqe = blank();
  io_uring_prep_renameat(&sqe, olddirfd, oldpath, newdirfd, newpath, flags);
  return op(sqe);
}

op unlinkat(int dirfd, const char* path, int flags) {
  io_uring_sqe sqe = blank();
  io_uring_prep_unlinkat(&sqe, dirfd, path, flags);
  return op(sqe);
}

op symlinkat(const char* target, int newdirfd, const char* linkpath) {
  io_uring_sqe sqe = blank();
  io_uring_prep_symlinkat(&sqe, target, newdirfd, linkpath);
  return op(sqe);
}

op linkat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, int flags) {
  io_uring_sqe sqe = blank();
  io_uring_prep_linkat(&sqe, olddirfd, oldpath, newdirfd, newpath, flags);
  return op(sqe);
}

op fsync(int fd, bool data_only) {
  io_uring_sqe sqe = blank();
  io_uring_prep_fsync(&sqe, fd, data_only ? IORING_FSYNC_DATASYNC : 0);
  return op(sqe);
}

op splice(int fd_in, std::int64_t off_in, int fd_out, std::int64_t off_out, unsigned len,
          unsigned flags) {
  io_uring_sqe sqe = blank();
  io_uring_prep_splice(&sqe, fd_in, off_in, fd_out, off_out, len, flags);
  return op(sqe);
}

op poll(int fd, unsigned events) {
  io_uring_sqe sqe = blank();
  io_uring_prep_poll_add(&sqe, fd, events);
  return op(sqe);
}

op waitid(int pidfd, siginfo_t* info, int options) {
  // liburing 2.3 has no helper: the kernel reads the id from fd, the id
  // type from len, the options from file_index and the siginfo from addr2.
  io_uring_sqe sqe = blank();
  io_uring_prep_rw(op_waitid, &sqe, pidfd, nullptr, P_PIDFD, 0);
  sqe.file_index = static_cast<std::uint32_t>(options);
  sqe.addr2 = reinterpret_cast<std::uint64_t>(info);
  return op(sqe);
}

op sleep_until(clock::time_point when) {
  io_uring_sqe sqe = blank();
  // The timespec pointer is set at submission, when the op has its home.
  io_uring_prep_timeout(&sqe, nullptr, 0, IORING_TIMEOUT_ABS);
  return op(sqe, when);
}

}  // namespace ringcri::reactor
