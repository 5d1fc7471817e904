#include <chrono>
#include <filesystem>

#include "cri/rpc/handlers.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::cri::rpc {

// The image filesystem is where the layer store keeps layers:
// <root>/erofs (an image file per layer) or <root>/layers (a directory per
// layer).
task<result<void>> image_fs_info(context& ctx, const v1::ImageFsInfoRequest&, v1::ImageFsInfoResponse& resp) {
  const std::filesystem::path& dir = ctx.layers.dir();
  auto used = co_await reactor::run_blocking([&ctx] { return ctx.layers.usage(); });
  if (!used) co_return tl::unexpected(std::move(used.error()).context("ImageFsInfo"));
  auto* fs = resp.add_image_filesystems();
  fs->set_timestamp(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count());
  fs->mutable_fs_id()->set_mountpoint(dir.string());
  fs->mutable_used_bytes()->set_value(used->bytes);
  fs->mutable_inodes_used()->set_value(used->inodes);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
