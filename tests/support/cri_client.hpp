#pragma once
// A CRI client for tests and benchmarks: gRPC stubs of both services on a
// unix socket, with a deadline on every call.

#include <chrono>
#include <filesystem>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "api.grpc.pb.h"

namespace ringcri::testing {

class cri_client {
 public:
  explicit cri_client(const std::filesystem::path& socket,
                      std::chrono::milliseconds deadline = std::chrono::seconds(30));

  // A fresh channel, for after the daemon was restarted.
  void reconnect();

  // Fail fast: a call fails at once while the daemon does not answer,
  // instead of waiting for it until the deadline (the default). A benchmark
  // that ends an interrupted run by stopping its daemon needs its calls to
  // fail then.
  void set_fail_fast(bool on) { fail_fast_ = on; }

  ::runtime::v1::RuntimeService::Stub& runtime() { return *runtime_; }
  ::runtime::v1::ImageService::Stub& images() { return *images_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

  // A fresh context carrying the deadline (one per call, as gRPC requires).
  std::unique_ptr<grpc::ClientContext> call() const;

  // call(&Stub::Method, request, response) on the runtime service.
  template <class Request, class Response>
  grpc::Status runtime_call(grpc::Status (::runtime::v1::RuntimeService::Stub::*method)(
                                grpc::ClientContext*, const Request&, Response*),
                            const Request& request, Response* response) {
    auto ctx = call();
    return (runtime_.get()->*method)(ctx.get(), request, response);
  }
  template <class Request, class Response>
  grpc::Status image_call(grpc::Status (::runtime::v1::ImageService::Stub::*method)(
                              grpc::ClientContext*, const Request&, Response*),
                          const Request& request, Response* response) {
    auto ctx = call();
    return (images_.get()->*method)(ctx.get(), request, response);
  }

 private:
  std::chrono::milliseconds deadline_;
  bool fail_fast_ = false;
  std::filesystem::path socket_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<::runtime::v1::ImageService::Stub> images_;
};

}  // namespace ringcri::testing
