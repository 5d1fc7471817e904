#include "support/cri_client.hpp"

namespace ringcri::testing {

cri_client::cri_client(const std::filesystem::path& socket, std::chrono::milliseconds deadline)
    : deadline_(deadline), socket_(socket) {
  reconnect();
}

void cri_client::reconnect() {
  grpc::ChannelArguments args;
  // Its own connections: a new client never inherits another's (possibly
  // dead) connection to a daemon that was restarted.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  args.SetMaxSendMessageSize(64 * 1024 * 1024);  // lets tests send oversized requests
  channel_ = grpc::CreateCustomChannel("unix://" + socket_.string(), grpc::InsecureChannelCredentials(), args);
  runtime_ = ::runtime::v1::RuntimeService::NewStub(channel_);
  images_ = ::runtime::v1::ImageService::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> cri_client::call() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + deadline_);
  // After a daemon restart the channel may still be backing off from the
  // old connection; a call waits for the new one instead of failing at once.
  ctx->set_wait_for_ready(!fail_fast_);
  return ctx;
}

}  // namespace ringcri::testing
