#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "cri/rpc/handlers.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::cri::rpc {

namespace {

struct usage {
  std::uint64_t bytes = 0;
  std::uint64_t inodes = 0;
};

// Bytes on disk (allocated blocks) and inodes under `dir`, which is made
// if missing so the kubelet can always stat the image filesystem.
result<usage> walk(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return tl::unexpected(error::from_error_code(ec, "create " + dir.string()));
  usage u;
  struct stat st;
  if (::lstat(dir.c_str(), &st) == 0) {
    u.bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    ++u.inodes;
  }
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (::lstat(it->path().c_str(), &st) != 0) continue;  // removed meanwhile
    u.bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    ++u.inodes;
  }
  if (ec) return tl::unexpected(error::from_error_code(ec, "walk " + dir.string()));
  return u;
}

}  // namespace

// The image filesystem is where layers are unpacked: <root>/layers.
task<result<void>> image_fs_info(context& ctx, const v1::ImageFsInfoRequest&, v1::ImageFsInfoResponse& resp) {
  auto dir = ctx.cfg.root_dir / "layers";
  auto used = co_await reactor::run_blocking([dir] { return walk(dir); });
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
