#pragma once
// The keeper's own log file with a size cap, as an spdlog sink. A line
// that would take the file past `max_bytes` first moves it to <path>.1
// (and .1 to .2, up to <path>.<keep>; the oldest is dropped), then goes
// to a new <path>. A line longer than the cap gets a file of its own.
//
// A file moved away from outside (logrotate's `create`) is followed by a
// new <path> at the next line after request_reopen() (the keeper asks on
// SIGHUP), or once the moved file reaches the cap; one truncated from
// outside (`copytruncate`) is written on from its new end.
//
// With `as_stdio`, every file opened also becomes the process's stdout and
// stderr: what is written there outside the logger (a crash report, a
// sanitizer's) lands in the current file, never in one rotated away.
//
// Each line is one write(2), unbuffered: a line logged is in the file
// whatever happens to the process next, and a forked child holds no copy
// of it to write twice.

#include <spdlog/sinks/base_sink.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::exec::keeper {

struct rotating_log_options {
  std::filesystem::path path;
  std::uint64_t max_bytes = std::uint64_t{10} << 20;
  unsigned keep = 3;  // old files: <path>.1 (the newest) .. <path>.<keep>
  bool as_stdio = false;
};

class rotating_log_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Opens (or creates, 0640) the file for appending.
  static result<std::shared_ptr<rotating_log_sink>> open(rotating_log_options options);

  // Async-signal-safe: the next line opens <path> again first.
  void request_reopen() noexcept { reopen_requested_.store(true, std::memory_order_relaxed); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  explicit rotating_log_sink(rotating_log_options options) : options_(std::move(options)) {}
  // Opens <path>; on failure the current file stays in use.
  result<void> reopen();
  // Before a line of `bytes` that would pass the cap: rotates, or follows
  // a file that is no longer <path>.
  void make_room(std::uint64_t bytes);

  rotating_log_options options_;
  unique_fd fd_;
  std::uint64_t size_ = 0;  // of the open file, as far as this sink knows
  std::atomic<bool> reopen_requested_{false};
};

// SIGHUP reopens `sink`'s file (handled, never the default: a stray
// SIGHUP no longer ends the keeper); with a null sink it is only ignored
// (by a handler, which exec resets, unlike SIG_IGN). The sink is kept for
// the life of the process.
result<void> reopen_on_sighup(std::shared_ptr<rotating_log_sink> sink);

}  // namespace ringcri::exec::keeper
