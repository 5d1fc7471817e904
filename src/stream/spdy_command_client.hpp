#pragma once
// Exec and attach over SPDY/3.1 (kubelet's remotecommand protocols
// v4.channel.k8s.io down to channel.k8s.io): the client opens one stream
// per kind (streamtype: error, stdin, stdout, stderr, resize).

#include <array>
#include <string_view>

#include "stream/command_client.hpp"
#include "stream/spdy_session.hpp"
#include "reactor/condition.hpp"

namespace ringcri::stream {

class spdy_command_client final : public command_client, private spdy_session::handler {
 public:
  static constexpr std::array<std::string_view, 4> protocols = {
      "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"};

  spdy_command_client(int fd, std::string already_read, std::string protocol, const command_streams& streams);

  reactor::task<void> run(command_input& input) override;
  reactor::task<result<void>> ready() override;
  reactor::task<result<void>> send_stdout(std::string_view data) override;
  reactor::task<result<void>> send_stderr(std::string_view data) override;
  reactor::task<void> finish(const command_outcome& outcome) override;

 private:
  bool on_stream(const spdy::syn_stream& syn) override;
  reactor::task<void> on_data(std::uint32_t stream_id, std::string_view data) override;
  void on_end(std::uint32_t stream_id) override;
  void on_reset(std::uint32_t stream_id) override;

  int expected_streams() const;

  spdy_session session_;
  std::string protocol_;
  command_streams streams_;
  command_input* input_ = nullptr;
  resize_parser resizes_;

  std::uint32_t error_id_ = 0, stdin_id_ = 0, stdout_id_ = 0, stderr_id_ = 0, resize_id_ = 0;
  int opened_ = 0;
  bool ended_ = false;
  reactor::condition changed_;
};

}  // namespace ringcri::stream
