// The report pipe and the release socket between a spawned child and the keeper.

#include "exec/spawn/report.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/sys/pipe.hpp"
#include "exec/spawn/spawn.hpp"

namespace ringcri::exec {
namespace spawn_detail {

static void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void report_ready(int report_fd) { write_all(report_fd, "R", 1); }

void report_pid(int report_fd, pid_t pid) {
  // No allocation: the caller may be confined already.
  char record[24];
  int n = std::snprintf(record, sizeof record, "P%d\n", static_cast<int>(pid));
  write_all(report_fd, record, static_cast<size_t>(n));
}

void report_failure(int report_fd, const error& e) {
  std::string record = "E" + std::to_string(e.sys_errno()) + ":" + e.message();
  // One write of at most PIPE_BUF bytes is atomic: the reader gets the
  // whole record or nothing.
  if (record.size() > PIPE_BUF) record.resize(PIPE_BUF);
  write_all(report_fd, record.data(), record.size());
  ::_exit(failed_exit_code);
}

result<report_pipe> make_report_pipe() {
  auto p = sys::make_pipe(sys::nonblocking_end::read);
  if (!p) return tl::unexpected(std::move(p.error()).context("pipe for the spawn report"));
  return report_pipe{std::move(p->read), std::move(p->write)};
}

result<std::pair<unique_fd, unique_fd>> make_release_socket() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    return fail_errno(errno, "socketpair for the release");
  return std::pair<unique_fd, unique_fd>(unique_fd(fds[0]), unique_fd(fds[1]));
}

result<void> send_with_fd(int sock, char byte, int fd) {
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno(errno, "send on the release socket");
  return {};
}

bool receive_with_fd(int sock, char& byte, unique_fd& fd) {
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int))) {
      int received;
      std::memcpy(&received, CMSG_DATA(c), sizeof(int));
      fd.reset(received);
    }
  }
  return true;
}

}  // namespace spawn_detail

result<report> read_report(int report_fd) {
  // One byte first: 'R' may be followed by an 'E' written after release,
  // which belongs to the next call.
  char kind = 0;
  ssize_t n;
  do {
    n = ::read(report_fd, &kind, 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return report{};
    return fail_errno(errno, "read spawn report");
  }
  if (n == 0) return report{report_kind::exec_done, {}, 0};
  if (kind == 'R') return report{report_kind::ready, {}, 0};
  if (kind == 'P') {
    // "P<pid>\n", one write of a few bytes: all of it is here.
    char digits[16];
    std::size_t len = 0;
    for (;;) {
      char c;
      n = ::read(report_fd, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || c == '\n' || len + 1 >= sizeof digits) break;
      digits[len++] = c;
    }
    digits[len] = 0;
    report r{report_kind::spawned, {}, 0};
    r.pid = static_cast<pid_t>(std::atoi(digits));
    if (r.pid <= 0) return fail(error_kind::internal, "read spawn report: a pid record without a pid");
    return r;
  }
  if (kind != 'E')
    return fail(error_kind::internal, "read spawn report: unexpected byte " + std::to_string(kind));

  std::string body;
  char buf[PIPE_BUF];
  for (;;) {
    n = ::read(report_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF, or EAGAIN: the record is one atomic write, all of it is here
    body.append(buf, static_cast<size_t>(n));
  }
  report r{report_kind::error, body, 0};
  auto colon = body.find(':');
  if (colon != std::string::npos) {
    try {
      r.sys_errno = std::stoi(body.substr(0, colon));
    } catch (...) {
      r.sys_errno = 0;
    }
    r.message = body.substr(colon + 1);
  }
  return r;
}

}  // namespace ringcri::exec
