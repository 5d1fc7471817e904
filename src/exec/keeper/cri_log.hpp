#pragma once
// The CRI log format the kubelet reads (kubectl logs), one line per output
// line:
//
//   2026-11-23T03:04:05.123456789Z stdout F hello
//   <RFC3339Nano UTC, 9 digits> <stdout|stderr> <F|P> <content>
//
// F marks a full line (content without its newline); P a part of a longer
// one: a line over 16 KiB is written as 16 KiB P parts and then the rest,
// and an unterminated tail is held until its newline arrives, or written
// as P when the stream ends. The split does not depend on how the bytes
// were chunked by the pipe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ringcri::exec::keeper {

inline constexpr std::size_t cri_log_max_line = 16 * 1024;

// "2026-11-23T03:04:05.123456789Z"
std::string rfc3339_nano(std::int64_t unix_ns);
std::int64_t now_unix_ns();

// One stream (stdout or stderr) of one container.
class cri_log_stream {
 public:
  explicit cri_log_stream(std::string_view name) : name_(name) {}

  // Appends the log lines for `data` to `out`, every one stamped `timestamp`.
  void feed(std::string_view data, std::string_view timestamp, std::string& out);
  // The stream ended: the held tail, if any, as a P line.
  void finish(std::string_view timestamp, std::string& out);

  std::size_t held() const { return pending_.size(); }
  std::string_view name() const { return name_; }

 private:
  void emit(std::string_view timestamp, char tag, std::string_view content, std::string& out) const;

  std::string_view name_;  // "stdout" or "stderr": a literal
  // The tail of a line whose newline has not come yet (< 16 KiB). Freed
  // once written so an idle container holds no buffer.
  std::string pending_;
};

}  // namespace ringcri::exec::keeper
