#include "cri/image_service.hpp"

#include "cri/rpc/handlers.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;

// In api.proto's order. Images belong to no pod: any reactor.
std::vector<route> image_service::routes() {
  // clang-format off
  return {
    unary("ListImages",   any_core{}, &rpc::list_images),
    stream_not_built<v1::StreamImagesRequest, v1::StreamImagesResponse>(
                          "StreamImages", "list streaming (CRIListStreaming) is not supported; use ListImages"),
    unary("ImageStatus",  any_core{}, &rpc::image_status),
    unary("PullImage",    any_core{}, &rpc::pull_image),
    unary("RemoveImage",  any_core{}, &rpc::remove_image),
    unary("ImageFsInfo",  any_core{}, &rpc::image_fs_info),
  };
  // clang-format on
}

}  // namespace ringcri::cri
