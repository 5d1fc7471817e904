#include "image/unpack/erofs_layer_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/crash_point.hpp"
#include "base/sys/list_dir.hpp"
#include "base/sys/random.hpp"
#include "image/unpack/erofs_writer.hpp"

namespace ringcri::image {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view image_suffix = ".erofs";

class erofs_layer_writer final : public layer_writer {
 public:
  erofs_layer_writer(erofs_layer_store& store, digest diff_id, std::string tmp_name,
                     unique_fd image)
      : store_(store),
        diff_id_(std::move(diff_id)),
        tmp_name_(std::move(tmp_name)),
        image_(std::move(image)),
        writer_(image_.get()) {}
  ~erofs_layer_writer() override {
    image_.reset();
    if (!committed_) store_.discard(tmp_name_);
  }

  const digest& diff_id() const override { return diff_id_; }
  layer_sink& sink() override { return writer_; }

  erofs_layer_store& store_;
  digest diff_id_;
  std::string tmp_name_;
  unique_fd image_;
  erofs_writer writer_;
  bool committed_ = false;  // renamed into place: nothing left to discard
};

std::string image_name(const digest& diff_id) {
  return std::string(diff_id.hex()) + std::string(image_suffix);
}

result<unique_fd> make_dir(const fs::path& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    return fail_errno(errno, fmt::format("mkdir {}", path.string()));
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("open {}", path.string()));
  return fd;
}

// Whether `name` in `dir_fd` is the root of a mount.
bool is_mount_root(int dir_fd, const char* name) {
  struct statx st {};
  if (::statx(dir_fd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) != 0) return false;
  return (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
         (st.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

// The image at `image_path` as a detached, read-only mount.
result<unique_fd> mount_image(const std::string& image_path) {
  const std::string what = fmt::format("mount EROFS image {}", image_path);
  unique_fd fs(::fsopen("erofs", FSOPEN_CLOEXEC));
  if (!fs) return fail_errno(errno, what + ": fsopen");
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "source", image_path.c_str(), 0) < 0)
    return fail_errno(errno, what + ": source");
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    return fail_errno(errno, what);
  unique_fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY));
  if (!mnt) return fail_errno(errno, what + ": fsmount");
  return mnt;
}

}  // namespace

erofs_layer_store::erofs_layer_store(fs::path dir, unique_fd sha256_fd, unique_fd tmp_fd,
                                     unique_fd mnt_fd)
    : dir_(std::move(dir)),
      sha256_fd_(std::move(sha256_fd)),
      tmp_fd_(std::move(tmp_fd)),
      mnt_fd_(std::move(mnt_fd)) {}

result<void> erofs_layer_store::supported(const fs::path& scratch_dir) {
  const std::string name = "erofs-probe-" + sys::random_hex(8);
  const fs::path path = scratch_dir / name;
  unique_fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return fail_errno(errno, fmt::format("create {}", path.string()));
  auto written = [&]() -> result<void> {
    erofs_writer empty(fd.get());
    return empty.finish();
  }();
  result<unique_fd> mounted =
      written ? mount_image(path.string()) : tl::unexpected(written.error());
  ::unlink(path.c_str());
  if (!mounted) return tl::unexpected(mounted.error());
  return {};
}

result<std::unique_ptr<erofs_layer_store>> erofs_layer_store::open(const fs::path& root) {
  const fs::path dir = root / "erofs";
  auto ctx = [&](error e) {
    return tl::unexpected(std::move(e).context(fmt::format("layer store {}", dir.string())));
  };
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return ctx(error::from_error_code(ec, fmt::format("mkdir {}", root.string())));
  auto dir_fd = make_dir(dir, 0700);
  if (!dir_fd) return ctx(dir_fd.error());
  auto sha256_fd = make_dir(dir / "sha256", 0700);
  if (!sha256_fd) return ctx(sha256_fd.error());
  auto tmp_fd = make_dir(dir / "tmp", 0700);
  if (!tmp_fd) return ctx(tmp_fd.error());
  auto mnt_fd = make_dir(dir / "mnt", 0700);
  if (!mnt_fd) return ctx(mnt_fd.error());

  std::unique_ptr<erofs_layer_store> store(new erofs_layer_store(
      dir, std::move(*sha256_fd), std::move(*tmp_fd), std::move(*mnt_fd)));

  // Images of writers that never committed and removals that never
  // finished: no writer exists yet, so all of tmp/ is garbage.
  auto leftovers = sys::list_dir(store->tmp_fd_.get());
  if (!leftovers) return ctx(leftovers.error());
  for (const auto& e : *leftovers)
    if (::unlinkat(store->tmp_fd_.get(), e.name.c_str(), 0) != 0 && errno != ENOENT)
      return ctx(error::from_errno(errno, fmt::format("remove tmp/{}", e.name)));
  // Mounts of layers removed while the daemon was down (or by a removal
  // that crashed half-way).
  auto mounts = sys::list_dir(store->mnt_fd_.get());
  if (!mounts) return ctx(mounts.error());
  for (const auto& e : *mounts) {
    struct stat st {};
    bool present = ::fstatat(store->sha256_fd_.get(), (e.name + std::string(image_suffix)).c_str(),
                             &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (!present)
      if (auto r = store->unmount(e.name); !r) return ctx(r.error());
  }
  return store;
}

result<bool> erofs_layer_store::has(const digest& diff_id) {
  struct stat st {};
  if (::fstatat(sha256_fd_.get(), image_name(diff_id).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    return S_ISREG(st.st_mode);
  if (errno == ENOENT) return false;
  return fail_errno(errno, fmt::format("layer {}: stat", diff_id.string()));
}

result<std::unique_ptr<layer_writer>> erofs_layer_store::begin(const digest& diff_id) {
  auto ctx = [&](error e) {
    return tl::unexpected(std::move(e).context(fmt::format("layer {}: begin", diff_id.string())));
  };
  for (;;) {
    const std::string name = "w-" + sys::random_hex(16);
    unique_fd image(
        ::openat(tmp_fd_.get(), name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!image) {
      if (errno == EEXIST) continue;
      return ctx(error::from_errno(errno, fmt::format("create tmp/{}", name)));
    }
    return std::unique_ptr<layer_writer>(
        std::make_unique<erofs_layer_writer>(*this, diff_id, name, std::move(image)));
  }
}

result<void> erofs_layer_store::commit(std::unique_ptr<layer_writer> writer) {
  auto* w = dynamic_cast<erofs_layer_writer*>(writer.get());
  if (!w || &w->store_ != this)
    return fail(error_kind::internal, "layer store: commit of a writer from another store");
  auto ctx = [&](error e) {
    return tl::unexpected(
        std::move(e).context(fmt::format("layer {}: commit", w->diff_id_.string())));
  };
  // The whole layer is this one file: on disk before its name says it is
  // complete.
  if (::fsync(w->image_.get()) != 0) return ctx(error::from_errno(errno, "fsync the image"));
  const std::string name = image_name(w->diff_id_);
  if (::renameat2(tmp_fd_.get(), w->tmp_name_.c_str(), sha256_fd_.get(), name.c_str(),
                  RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) return {};  // another pull won; ~writer drops ours
    return ctx(error::from_errno(errno, fmt::format("rename into sha256/{}", name)));
  }
  w->committed_ = true;
  if (::fsync(sha256_fd_.get()) != 0) return ctx(error::from_errno(errno, "fsync sha256/"));
  crash_point(point("pull_image.after_layer_commit"));
  return {};
}

result<fs::path> erofs_layer_store::path_of(const digest& diff_id) {
  const std::string hex(diff_id.hex());
  fs::path target = dir_ / "mnt" / hex;
  std::lock_guard lock(mount_mutex_);
  if (is_mount_root(mnt_fd_.get(), hex.c_str())) return target;
  auto present = has(diff_id);
  if (!present) return tl::unexpected(present.error());
  if (!*present)
    return fail(error_kind::not_found, fmt::format("layer {}: not in the store", diff_id.string()));
  auto mnt = mount_image((dir_ / "sha256" / image_name(diff_id)).string());
  if (!mnt)
    return tl::unexpected(std::move(mnt.error()).context(fmt::format("layer {}", diff_id.string())));
  if (::mkdirat(mnt_fd_.get(), hex.c_str(), 0700) != 0 && errno != EEXIST)
    return fail_errno(errno, fmt::format("layer {}: mkdir mnt/{}", diff_id.string(), hex));
  if (::move_mount(mnt->get(), "", mnt_fd_.get(), hex.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return fail_errno(errno, fmt::format("layer {}: mount on mnt/{}", diff_id.string(), hex));
  return target;
}

result<void> erofs_layer_store::unmount(const std::string& hex) {
  std::lock_guard lock(mount_mutex_);
  // Detached: an overlay that uses the layer holds its own reference and
  // keeps it until its container goes.
  const fs::path target = dir_ / "mnt" / hex;
  while (is_mount_root(mnt_fd_.get(), hex.c_str())) {
    if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL) break;
    return fail_errno(errno, fmt::format("unmount mnt/{}", hex));
  }
  if (::unlinkat(mnt_fd_.get(), hex.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return fail_errno(errno, fmt::format("rmdir mnt/{}", hex));
  return {};
}

result<void> erofs_layer_store::remove(const digest& diff_id) {
  auto ctx = [&](error e) {
    return tl::unexpected(std::move(e).context(fmt::format("layer {}: remove", diff_id.string())));
  };
  const std::string tmp_name = "rm-" + sys::random_hex(16);
  if (::renameat2(sha256_fd_.get(), image_name(diff_id).c_str(), tmp_fd_.get(), tmp_name.c_str(),
                  RENAME_NOREPLACE) != 0) {
    if (errno == ENOENT)
      return fail(error_kind::not_found,
                  fmt::format("layer {}: not in the store", diff_id.string()));
    return ctx(error::from_errno(errno, "rename into tmp/"));
  }
  if (::fsync(sha256_fd_.get()) != 0) return ctx(error::from_errno(errno, "fsync sha256/"));
  if (auto r = unmount(std::string(diff_id.hex())); !r) return ctx(r.error());
  if (::unlinkat(tmp_fd_.get(), tmp_name.c_str(), 0) != 0)
    return ctx(error::from_errno(errno, fmt::format("remove tmp/{}", tmp_name)));
  return {};
}

result<std::vector<digest>> erofs_layer_store::list() {
  auto entries = sys::list_dir(sha256_fd_.get());
  if (!entries) return tl::unexpected(std::move(entries.error()).context("layer store: list"));
  std::vector<digest> out;
  for (const auto& e : *entries) {
    std::string_view name = e.name;
    if (!name.ends_with(image_suffix)) continue;
    name.remove_suffix(image_suffix.size());
    if (auto d = digest::parse("sha256:" + std::string(name))) out.push_back(std::move(*d));
  }
  std::sort(out.begin(), out.end());
  return out;
}

result<layer_usage> erofs_layer_store::usage() {
  auto layers = list();
  if (!layers) return tl::unexpected(layers.error());
  layer_usage total;
  for (const auto& d : *layers) {
    struct stat st {};
    if (::fstatat(sha256_fd_.get(), image_name(d).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed meanwhile
      return fail_errno(errno, fmt::format("layer {}: stat", d.string()));
    }
    total.bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    ++total.inodes;
  }
  return total;
}

void erofs_layer_store::discard(const std::string& tmp_name) {
  // Best effort: what is left is deleted by the next open().
  ::unlinkat(tmp_fd_.get(), tmp_name.c_str(), 0);
}

}  // namespace ringcri::image
