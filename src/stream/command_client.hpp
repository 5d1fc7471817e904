#pragma once
// What an exec or attach session sees of its client, whichever protocol
// (SPDY or WebSocket) carries it: input callbacks, output streams, and
// the status at the end on the error stream.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "stream/http_request.hpp"
#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::stream {

struct terminal_size {
  std::uint16_t width = 0;
  std::uint16_t height = 0;
};

// How the command ended, as the client is told.
struct command_outcome {
  enum class kind { success, exit_code, error };
  kind what = kind::success;
  int exit_code = 0;
  std::string message;  // for error
  std::string command;  // for exit_code: the command, in the message kubectl prints
};

// Where the client's input goes; set by the session before run().
struct command_input {
  std::function<reactor::task<void>(std::string_view)> stdin_data;
  std::function<void()> stdin_end;
  std::function<void(terminal_size)> resize;
  // The connection ended (the client left, or the session closed it).
  std::function<void()> left;
};

// The streams a session asked for (after kubelet's rule: no stderr with a tty).
struct command_streams {
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
  bool tty = false;
};

class command_client {
 public:
  virtual ~command_client() = default;

  // Reads the client's frames and feeds `input` until the connection ends.
  // Cancels gone() when it returns.
  virtual reactor::task<void> run(command_input& input) = 0;
  // Waits until the client opened every stream the session needs (SPDY
  // opens them one by one; WebSocket has them from the start). Fails
  // after 30 s, or when the client left.
  virtual reactor::task<result<void>> ready() = 0;
  virtual reactor::task<result<void>> send_stdout(std::string_view data) = 0;
  virtual reactor::task<result<void>> send_stderr(std::string_view data) = 0;
  // The status on the error stream, every stream closed, the connection shut.
  virtual reactor::task<void> finish(const command_outcome& outcome) = 0;

  reactor::cancellation& gone() noexcept { return gone_; }

 protected:
  reactor::cancellation gone_;
};

// The error stream's body for an outcome: a JSON metav1.Status for the v4
// protocols (kubectl reads the exit code from its causes), plain text
// before v4, and nothing for success before v4.
std::string status_body(const command_outcome& outcome, bool v4);

// Terminal size messages on the resize stream: JSON objects one after
// another ({"Width":80,"Height":24}), possibly split across frames.
class resize_parser {
 public:
  template <class F>
  void feed(std::string_view data, F&& each) {
    for (char c : data) {
      buffer_ += c;
      if (c == '{') ++depth_;
      else if (c == '}' && depth_ > 0 && --depth_ == 0) {
        if (auto size = parse(buffer_)) each(*size);
        buffer_.clear();
      }
      if (buffer_.size() > 4096) buffer_.clear(), depth_ = 0;
    }
  }

 private:
  static std::optional<terminal_size> parse(const std::string& json);
  std::string buffer_;
  int depth_ = 0;
};

// Upgrades the connection for exec or attach: SPDY/3.1 or WebSocket, by
// the request's headers. On failure the HTTP error response has been sent.
reactor::task<result<std::unique_ptr<command_client>>> accept_command_client(
    int fd, const http_request& req, std::string already_read, const command_streams& streams);

}  // namespace ringcri::stream
