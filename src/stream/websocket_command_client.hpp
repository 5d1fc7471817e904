#pragma once
// Exec and attach over WebSocket: channels 0 stdin, 1 stdout, 2 stderr,
// 3 error, 4 resize; v5.channel.k8s.io adds a close message (channel 255,
// then the channel closed) so stdin can end while output goes on.

#include <array>
#include <string_view>

#include "stream/command_client.hpp"
#include "stream/websocket_session.hpp"

namespace ringcri::stream {

class websocket_command_client final : public command_client, private websocket_session::handler {
 public:
  static constexpr std::array<std::string_view, 5> protocols = {
      "v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io", "channel.k8s.io",
      "base64.channel.k8s.io"};

  websocket_command_client(int fd, std::string already_read, std::string protocol,
                           const command_streams& streams);

  reactor::task<void> run(command_input& input) override;
  reactor::task<result<void>> ready() override;
  reactor::task<result<void>> send_stdout(std::string_view data) override;
  reactor::task<result<void>> send_stderr(std::string_view data) override;
  reactor::task<void> finish(const command_outcome& outcome) override;

 private:
  reactor::task<void> on_message(std::uint8_t channel, std::string_view data) override;

  websocket_session session_;
  std::string protocol_;
  command_streams streams_;
  command_input* input_ = nullptr;
  resize_parser resizes_;
  bool stdin_ended_ = false;
  bool ended_ = false;
};

}  // namespace ringcri::stream
