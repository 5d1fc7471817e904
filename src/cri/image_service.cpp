#include "cri/image_service.hpp"

#include <fmt/format.h>

#include "cri/dispatch.hpp"
#include "cri/rpc/handlers.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;
using call_context = grpc::CallbackServerContext;

grpc::ServerUnaryReactor* image_service::ListImages(call_context* call, const v1::ListImagesRequest* req,
                                                    v1::ListImagesResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::list_images);
}

grpc::ServerUnaryReactor* image_service::ImageStatus(call_context* call, const v1::ImageStatusRequest* req,
                                                     v1::ImageStatusResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::image_status);
}

grpc::ServerUnaryReactor* image_service::PullImage(call_context* call, const v1::PullImageRequest* req,
                                                   v1::PullImageResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::pull_image);
}

grpc::ServerUnaryReactor* image_service::RemoveImage(call_context* call, const v1::RemoveImageRequest* req,
                                                     v1::RemoveImageResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::remove_image);
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
