#include "stream/spdy_command_client.hpp"

#include <spdlog/spdlog.h>

#include "reactor/ops.hpp"

namespace ringcri::stream {

namespace io = reactor;

namespace {
constexpr auto stream_creation_timeout = std::chrono::seconds(30);
}

spdy_command_client::spdy_command_client(int fd, std::string already_read, std::string protocol,
                                         const command_streams& streams)
    : session_(fd, std::move(already_read)), protocol_(std::move(protocol)), streams_(streams) {}

int spdy_command_client::expected_streams() const {
  // kubelet's count: error, then one per stream asked for; resize with a
  // tty from v3 on.
  int n = 1;
  if (streams_.stdin) ++n;
  if (streams_.stdout) ++n;
  if (streams_.stderr) ++n;
  if (streams_.tty && (protocol_ == "v4.channel.k8s.io" || protocol_ == "v3.channel.k8s.io")) ++n;
  return n;
}

bool spdy_command_client::on_stream(const spdy::syn_stream& syn) {
  const std::string* type = spdy::find_header(syn.headers, "streamtype");
  if (!type) return false;
  std::uint32_t* slot = nullptr;
  if (*type == "error") slot = &error_id_;
  else if (*type == "stdin") slot = &stdin_id_;
  else if (*type == "stdout") slot = &stdout_id_;
  else if (*type == "stderr") slot = &stderr_id_;
  else if (*type == "resize") slot = &resize_id_;
  if (!slot || *slot != 0) return false;
  *slot = syn.stream_id;
  ++opened_;
  changed_.notify_all();
  return true;
}

reactor::task<void> spdy_command_client::on_data(std::uint32_t stream_id, std::string_view data) {
  if (!input_) co_return;
  if (stream_id == stdin_id_ && stdin_id_ != 0) {
    if (input_->stdin_data) co_await input_->stdin_data(data);
  } else if (stream_id == resize_id_ && resize_id_ != 0) {
    resizes_.feed(data, [this](terminal_size s) {
      if (input_->resize) input_->resize(s);
    });
  }
}

void spdy_command_client::on_end(std::uint32_t stream_id) {
  if (stream_id == stdin_id_ && stdin_id_ != 0 && input_ && input_->stdin_end) input_->stdin_end();
}

void spdy_command_client::on_reset(std::uint32_t stream_id) { on_end(stream_id); }

reactor::task<void> spdy_command_client::run(command_input& input) {
  input_ = &input;
  auto ended = co_await session_.run(*this);
  if (!ended) spdlog::debug("msg=\"exec/attach connection ended\" error=\"{}\"", ended.error().message());
  ended_ = true;
  gone_.cancel();
  if (input.left) input.left();
  changed_.notify_all();
  input_ = nullptr;
}

reactor::task<result<void>> spdy_command_client::ready() {
  auto deadline = io::clock::now() + stream_creation_timeout;
  std::function<bool()> opened = [this] { return ended_ || opened_ >= expected_streams(); };
  bool all = co_await io::wait_until(changed_, opened, deadline);
  if (ended_) co_return fail(error_kind::cancelled, "the client left before opening its streams");
  if (!all) co_return fail(error_kind::deadline_exceeded, "timed out waiting for the client to create streams");
  co_return result<void>{};
}

reactor::task<result<void>> spdy_command_client::send_stdout(std::string_view data) {
  if (stdout_id_ == 0) co_return result<void>{};
  co_return co_await session_.send_data(stdout_id_, data);
}

reactor::task<result<void>> spdy_command_client::send_stderr(std::string_view data) {
  if (stderr_id_ == 0) co_return result<void>{};
  co_return co_await session_.send_data(stderr_id_, data);
}

reactor::task<void> spdy_command_client::finish(const command_outcome& outcome) {
  if (!ended_) {
    if (stdout_id_) (void)co_await session_.send_data(stdout_id_, {}, true);
    if (stderr_id_) (void)co_await session_.send_data(stderr_id_, {}, true);
    if (error_id_) {
      auto body = status_body(outcome, protocol_ == "v4.channel.k8s.io");
      if (!body.empty()) (void)co_await session_.send_data(error_id_, body);
      (void)co_await session_.send_data(error_id_, {}, true);
    }
  }
  co_await session_.close();
}

}  // namespace ringcri::stream
