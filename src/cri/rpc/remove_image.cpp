#include "cri/image_lookup.hpp"
#include "cri/rpc/handlers.hpp"

namespace ringcri::cri::rpc {

// As containerd does: the image is removed with all its names, whichever
// name it was asked by; its layers go unless another image uses them.
// Removing an image the node does not have succeeds.
task<result<void>> remove_image(context& ctx, const v1::RemoveImageRequest& req, v1::RemoveImageResponse&) {
  if (req.image().image().empty()) co_return fail(error_kind::invalid_argument, "image.image is required");
  auto img = find_image(ctx, req.image().image());
  if (!img) co_return result<void>{};
  auto gone = ctx.images.remove(img->id());
  if (!gone) co_return result<void>{};  // removed meanwhile by another call
  std::vector<records::image> removed;
  removed.push_back(std::move(*gone));
  auto done = co_await forget_images(ctx, std::move(removed));
  if (!done) co_return tl::unexpected(std::move(done.error()).context("remove image \"" + req.image().image() + "\""));
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
