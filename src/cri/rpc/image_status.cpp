#include "cri/image_lookup.hpp"
#include "cri/rpc/handlers.hpp"
#include "cri/views/image_view.hpp"

namespace ringcri::cri::rpc {

// An image the node does not have is not an error: the answer has no image.
task<result<void>> image_status(context& ctx, const v1::ImageStatusRequest& req, v1::ImageStatusResponse& resp) {
  if (req.image().image().empty()) co_return fail(error_kind::invalid_argument, "image.image is required");
  auto img = find_image(ctx, req.image().image());
  if (!img) co_return result<void>{};
  *resp.mutable_image() = image_of(*img);
  if (req.verbose()) (*resp.mutable_info())["info"] = image_info(*img);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
