// The report pipe: made by the keeper, written by a spawned child, read by the keeper.

#include "exec/spawn/report.hpp"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <string>

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

void report_failure(int report_fd, const error& e) {
  std::string record = "E" + std::to_string(e.sys_errno()) + ":" + e.message();
  // One write of at most PIPE_BUF bytes is atomic: the reader gets the
  // whole record or nothing.
  if (record.size() > PIPE_BUF) record.resize(PIPE_BUF);
  write_all(report_fd, record.data(), record.size());
  ::_exit(failed_exit_code);
}

result<report_pipe> make_report_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return fail_errno(errno, "pipe for the spawn report");
  report_pipe p{unique_fd(fds[0]), unique_fd(fds[1])};
  if (::fcntl(p.read.get(), F_SETFL, O_NONBLOCK) < 0) return fail_errno(errno, "set the spawn report non-blocking");
  return p;
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
