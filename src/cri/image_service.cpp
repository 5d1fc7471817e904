#include "cri/image_service.hpp"

#include <fmt/format.h>

#include "cri/dispatch.hpp"
#include "cri/rpc/handlers.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;
using call_context = grpc::CallbackServerContext;

namespace {
constexpr const char* missing_images = "image pulls and the image store are not built yet";

error not_built(std::string_view rpc) {
  return error(error_kind::unimplemented, fmt::format("{}: {}", rpc, missing_images));
}
}  // namespace

grpc::ServerUnaryReactor* image_service::ListImages(call_context* call, const v1::ListImagesRequest*,
                                                    v1::ListImagesResponse*) {
  // No image store yet: the list is empty.
  auto* r = call->DefaultReactor();
  r->Finish(grpc::Status::OK);
  return r;
}

grpc::ServerUnaryReactor* image_service::ImageStatus(call_context* call, const v1::ImageStatusRequest*,
                                                     v1::ImageStatusResponse*) {
  return finish_now(call, not_built("ImageStatus"));
}

grpc::ServerUnaryReactor* image_service::PullImage(call_context* call, const v1::PullImageRequest*,
                                                   v1::PullImageResponse*) {
  return finish_now(call, not_built("PullImage"));
}

grpc::ServerUnaryReactor* image_service::RemoveImage(call_context* call, const v1::RemoveImageRequest*,
                                                     v1::RemoveImageResponse*) {
  return finish_now(call, not_built("RemoveImage"));
}

grpc::ServerUnaryReactor* image_service::ImageFsInfo(call_context* call, const v1::ImageFsInfoRequest* req,
                                                     v1::ImageFsInfoResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::image_fs_info);
}

grpc::ServerWriteReactor<v1::StreamImagesResponse>* image_service::StreamImages(
    call_context*, const v1::StreamImagesRequest*) {
  return finish_stream_now<v1::StreamImagesResponse>(
      error(error_kind::unimplemented,
            "StreamImages: list streaming (CRIListStreaming) is not supported; use ListImages"));
}

}  // namespace ringcri::cri
