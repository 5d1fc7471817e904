#pragma once
// runtime.v1.ImageService: routes each RPC to its handler (rpc/*.cpp).

#include "api.grpc.pb.h"
#include "cri/context.hpp"

namespace ringcri::cri {

class image_service final : public ::runtime::v1::ImageService::CallbackService {
 public:
  explicit image_service(context& ctx) : ctx_(ctx) {}

  grpc::ServerUnaryReactor* ListImages(grpc::CallbackServerContext*, const ::runtime::v1::ListImagesRequest*,
                                       ::runtime::v1::ListImagesResponse*) override;
  grpc::ServerUnaryReactor* ImageStatus(grpc::CallbackServerContext*, const ::runtime::v1::ImageStatusRequest*,
                                        ::runtime::v1::ImageStatusResponse*) override;
  grpc::ServerUnaryReactor* PullImage(grpc::CallbackServerContext*, const ::runtime::v1::PullImageRequest*,
                                      ::runtime::v1::PullImageResponse*) override;
  grpc::ServerUnaryReactor* RemoveImage(grpc::CallbackServerContext*, const ::runtime::v1::RemoveImageRequest*,
                                        ::runtime::v1::RemoveImageResponse*) override;
  grpc::ServerUnaryReactor* ImageFsInfo(grpc::CallbackServerContext*, const ::runtime::v1::ImageFsInfoRequest*,
                                        ::runtime::v1::ImageFsInfoResponse*) override;
  grpc::ServerWriteReactor<::runtime::v1::StreamImagesResponse>* StreamImages(
      grpc::CallbackServerContext*, const ::runtime::v1::StreamImagesRequest*) override;

 private:
  context& ctx_;
};

}  // namespace ringcri::cri
