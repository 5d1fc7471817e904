#include "stream/websocket_command_client.hpp"

#include <spdlog/spdlog.h>

namespace ringcri::stream {

namespace {

enum channel : std::uint8_t {
  stdin_channel = 0,
  stdout_channel = 1,
  stderr_channel = 2,
  error_channel = 3,
  resize_channel = 4,
  close_channel = 255,  // v5: the payload names the channel the client closed
};

bool is_base64(std::string_view protocol) { return protocol.find("base64.") != std::string_view::npos; }

}  // namespace

websocket_command_client::websocket_command_client(int fd, std::string already_read, std::string protocol,
                                                   const command_streams& streams)
    : session_(fd, std::move(already_read), is_base64(protocol)), protocol_(std::move(protocol)), streams_(streams) {}

reactor::task<void> websocket_command_client::on_message(std::uint8_t channel, std::string_view data) {
  if (!input_) co_return;
  switch (channel) {
    case stdin_channel:
      if (streams_.stdin && !stdin_ended_ && input_->stdin_data) co_await input_->stdin_data(data);
      break;
    case resize_channel:
      resizes_.feed(data, [this](terminal_size s) {
        if (input_->resize) input_->resize(s);
      });
      break;
    case close_channel:
      if (protocol_ == "v5.channel.k8s.io" && !data.empty() && data[0] == stdin_channel && !stdin_ended_) {
        stdin_ended_ = true;
        if (input_->stdin_end) input_->stdin_end();
      }
      break;
    default:
      break;  // not a channel the client writes: ignored, as kubelet does
  }
}

reactor::task<void> websocket_command_client::run(command_input& input) {
  input_ = &input;
  auto ended = co_await session_.run(*this);
  if (!ended) spdlog::debug("msg=\"exec/attach connection ended\" error=\"{}\"", ended.error().message());
  // Before v5 the only end of stdin is the end of the connection.
  if (!stdin_ended_ && input.stdin_end) {
    stdin_ended_ = true;
    input.stdin_end();
  }
  ended_ = true;
  gone_.cancel();
  if (input.left) input.left();
  input_ = nullptr;
}

reactor::task<result<void>> websocket_command_client::ready() {
  // Every channel exists from the upgrade on. An empty message on the
  // lowest channel we write tells the client the session is set up.
  std::uint8_t first = streams_.stdout ? stdout_channel : streams_.stderr ? stderr_channel : error_channel;
  co_return co_await session_.send(first, {});
}

reactor::task<result<void>> websocket_command_client::send_stdout(std::string_view data) {
  if (!streams_.stdout) co_return result<void>{};
  co_return co_await session_.send(stdout_channel, data);
}

reactor::task<result<void>> websocket_command_client::send_stderr(std::string_view data) {
  if (!streams_.stderr) co_return result<void>{};
  co_return co_await session_.send(stderr_channel, data);
}

reactor::task<void> websocket_command_client::finish(const command_outcome& outcome) {
  if (!ended_) {
    bool v4 = protocol_.rfind("v4.", 0) == 0 || protocol_.rfind("v5.", 0) == 0;
    auto body = status_body(outcome, v4);
    if (!body.empty()) (void)co_await session_.send(error_channel, body);
  }
  co_await session_.close();
}

}  // namespace ringcri::stream
