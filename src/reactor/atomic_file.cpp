#include "reactor/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>

#include <cerrno>
#include <span>
#include <string>

#include "base/crash_point.hpp"
#include "base/sys/atomic_file.hpp"
#include "reactor/ops.hpp"

namespace ringcri::reactor {

namespace io = ringcri::reactor;

task<result<void>> write_file_atomic(int dir_fd, std::string_view dir_path, std::string_view name,
                                     std::string_view data, mode_t mode,
                                     sys::durability durability) {
  const bool synced = durability == sys::durability::synced;
  // Cost: two small strings (the names) and one getrandom for the temp name.
  const std::string target(name);
  const std::string temp = sys::atomic_temp_name(name);
  auto fail_at = [&](std::string_view step, int e) {
    return fail_errno(e, fmt::format("{} {}/{}", step, dir_path, temp));
  };

  auto fd =
      co_await io::openat(dir_fd, temp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
  if (!fd) co_return fail_at("create", fd.error().value());

  // Every byte, then fsync; from here on a failure unlinks the temp file.
  result<void> done;
  auto bytes = std::as_bytes(std::span(data));
  std::size_t at = 0;
  while (at < bytes.size()) {
    auto n = co_await io::write(*fd, bytes.subspan(at), at);
    if (!n) {
      done = fail_at("write", n.error().value());
      break;
    }
    if (*n == 0) {  // no progress on a regular file: do not spin
      done = fail_at("write", EIO);
      break;
    }
    at += static_cast<std::size_t>(*n);
  }
  if (done && synced) {
    auto flushed = co_await io::fsync(*fd);
    if (!flushed) done = fail_at("fsync", flushed.error().value());
  }
  auto closed = co_await io::close(*fd);
  if (done && !closed) done = fail_at("close", closed.error().value());
  if (done) {
    crash_point(point("atomic_write.before_rename"));
    auto renamed = co_await io::renameat(dir_fd, temp.c_str(), dir_fd, target.c_str());
    if (!renamed)
      done = fail_errno(renamed.error().value(),
                        fmt::format("rename {}/{} to {}", dir_path, temp, target));
  }
  if (!done) {
    // Best effort: a leftover is a temp name, which sweeps know.
    auto unlinked = co_await io::unlinkat(dir_fd, temp.c_str());
    (void)unlinked;
    co_return done;
  }

  crash_point(point("atomic_write.after_rename"));
  // The rename is durable once the directory is.
  if (!synced) co_return result<void>{};
  auto flushed = co_await io::fsync(dir_fd);
  if (!flushed) co_return fail_errno(flushed.error().value(), fmt::format("fsync {}", dir_path));
  co_return result<void>{};
}

}  // namespace ringcri::reactor
