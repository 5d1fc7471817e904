#include "support/cri_client.hpp"

namespace ringcri::testing {

cri_client::cri_client(const std::filesystem::path& socket, std::chrono::milliseconds deadline)
    : deadline_(deadline) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  args.SetMaxSendMessageSize(64 * 1024 * 1024);  // lets tests send oversized requests
  channel_ = grpc::CreateCustomChannel("unix://" + socket.string(), grpc::InsecureChannelCredentials(), args);
  runtime_ = ::runtime::v1::RuntimeService::NewStub(channel_);
  images_ = ::runtime::v1::ImageService::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> cri_client::call() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + deadline_);
  return ctx;
}

}  // namespace ringcri::testing
