#include "cri/image_lookup.hpp"
#include "cri/rpc/handlers.hpp"
#include "cri/views/image_view.hpp"

namespace ringcri::cri::rpc {

task<result<void>> list_images(context& ctx, const v1::ListImagesRequest& req, v1::ListImagesResponse& resp) {
  const std::string& wanted = req.filter().image().image();
  if (!wanted.empty()) {
    if (auto img = find_image(ctx, wanted)) *resp.add_images() = image_of(*img);
    co_return result<void>{};
  }
  for (const auto& img : ctx.images.list()) *resp.add_images() = image_of(img);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
