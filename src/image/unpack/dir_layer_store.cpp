#include "image/unpack/dir_layer_store.hpp"

#include "base/crash_point.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <unordered_set>

#include "base/sys/list_dir.hpp"
#include "base/sys/random.hpp"
#include "base/sys/remove_tree.hpp"
#include "image/unpack/tar_extractor.hpp"

namespace ringcri::image {

namespace fs = std::filesystem;

namespace {

class dir_layer_writer final : public layer_writer {
 public:
  dir_layer_writer(dir_layer_store& store, digest diff_id, std::string tmp_name, unique_fd root)
      : store_(store),
        diff_id_(std::move(diff_id)),
        tmp_name_(std::move(tmp_name)),
        root_(std::move(root)),
        extractor_(root_.get()) {}
  ~dir_layer_writer() override {
    root_.reset();
    if (!committed_) store_.discard(tmp_name_);
  }

  const digest& diff_id() const override { return diff_id_; }
  layer_sink& sink() override { return extractor_; }

  dir_layer_store& store_;
  digest diff_id_;
  std::string tmp_name_;
  unique_fd root_;
  tar_extractor extractor_;
  bool committed_ = false;  // renamed into place: nothing left to discard
};

// A name no other writer will pick: 128 random bits.
std::string random_name(std::string_view prefix) {
  return std::string(prefix) + sys::random_hex(16);
}

result<unique_fd> make_dir(const fs::path& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    return fail_errno(errno, fmt::format("mkdir {}", path.string()));
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("open {}", path.string()));
  return fd;
}

// Space and inodes of the tree `name` in `parent_fd`: st_blocks of each
// inode once (hard links counted once), walking with one directory fd
// open at a time, whatever the depth.
result<layer_usage> walk_usage(int parent_fd, const std::string& name) {
  layer_usage u;
  std::unordered_set<ino_t> linked;  // inodes with more than one name, already counted
  auto count = [&](const struct stat& st) {
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && !linked.insert(st.st_ino).second) return;
    u.bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    ++u.inodes;
  };
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno(errno, fmt::format("stat {}", name));
  count(st);
  unique_fd cur(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!cur) return fail_errno(errno, fmt::format("open {}", name));

  std::vector<std::vector<std::string>> pending;  // per level: subdirectories not yet walked
  auto scan = [&]() -> result<void> {
    auto entries = sys::list_dir(cur.get());
    if (!entries) return tl::unexpected(entries.error());
    std::vector<std::string> subdirs;
    for (auto& e : *entries) {
      if (::fstatat(cur.get(), e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return fail_errno(errno, fmt::format("stat {}", e.name));
      count(st);
      if (S_ISDIR(st.st_mode)) subdirs.push_back(std::move(e.name));
    }
    pending.push_back(std::move(subdirs));
    return {};
  };
  if (auto r = scan(); !r) return tl::unexpected(r.error());
  while (!pending.empty()) {
    if (pending.back().empty()) {
      pending.pop_back();
      if (pending.empty()) break;
      cur.reset(::openat(cur.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!cur) return fail_errno(errno, "open ..");
      continue;
    }
    std::string sub = std::move(pending.back().back());
    pending.back().pop_back();
    cur.reset(::openat(cur.get(), sub.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!cur) return fail_errno(errno, fmt::format("open {}", sub));
    if (auto r = scan(); !r) return tl::unexpected(r.error());
  }
  return u;
}

}  // namespace

dir_layer_store::dir_layer_store(fs::path layers, unique_fd sha256_fd, unique_fd tmp_fd)
    : layers_(std::move(layers)), sha256_fd_(std::move(sha256_fd)), tmp_fd_(std::move(tmp_fd)) {}

result<std::unique_ptr<dir_layer_store>> dir_layer_store::open(const fs::path& root) {
  auto ctx = [&](error e) {
    return tl::unexpected(std::move(e).context(fmt::format("layer store {}", root.string())));
  };
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return ctx(error::from_error_code(ec, fmt::format("mkdir {}", root.string())));
  fs::path layers = root / "layers";
  auto layers_fd = make_dir(layers, 0700);
  if (!layers_fd) return ctx(layers_fd.error());
  auto sha256_fd = make_dir(layers / "sha256", 0700);
  if (!sha256_fd) return ctx(sha256_fd.error());
  auto tmp_fd = make_dir(layers / "tmp", 0700);
  if (!tmp_fd) return ctx(tmp_fd.error());

  // Leftovers of writers that never committed and removals that never
  // finished: no writer exists yet, so all of tmp/ is garbage.
  auto leftovers = sys::list_dir(tmp_fd->get());
  if (!leftovers) return ctx(leftovers.error());
  for (const auto& e : *leftovers)
    if (auto r = sys::remove_tree(tmp_fd->get(), e.name); !r) return ctx(r.error());

  return std::unique_ptr<dir_layer_store>(
      new dir_layer_store(std::move(layers), std::move(*sha256_fd), std::move(*tmp_fd)));
}

result<bool> dir_layer_store::has(const digest& diff_id) {
  std::string hex(diff_id.hex());
  struct stat st {};
  if (::fstatat(sha256_fd_.get(), hex.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    return S_ISDIR(st.st_mode);
  if (errno == ENOENT) return false;
  return fail_errno(errno, fmt::format("layer {}: stat", diff_id.string()));
}

result<std::unique_ptr<layer_writer>> dir_layer_store::begin(const digest& diff_id) {
  auto ctx = [&](error e) {
    return tl::unexpected(std::move(e).context(fmt::format("layer {}: begin", diff_id.string())));
  };
  for (;;) {
    const std::string name = random_name("w-");
    if (::mkdirat(tmp_fd_.get(), name.c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;
      return ctx(error::from_errno(errno, fmt::format("mkdir tmp/{}", name)));
    }
    unique_fd root(
        ::openat(tmp_fd_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root) {
      int e = errno;
      discard(name);
      return ctx(error::from_errno(e, fmt::format("open tmp/{}", name)));
    }
    // From here the writer owns the dir and removes it if anything fails.
    auto writer = std::make_unique<dir_layer_writer>(*this, diff_id, name, std::move(root));
    // The layer's root, unless its tar says otherwise with a "./" entry.
    if (::fchmod(writer->root_.get(), 0755) != 0)
      return ctx(error::from_errno(errno, fmt::format("chmod tmp/{}", name)));
    return std::unique_ptr<layer_writer>(std::move(writer));
  }
}

result<void> dir_layer_store::commit(std::unique_ptr<layer_writer> writer) {
  auto* w = dynamic_cast<dir_layer_writer*>(writer.get());
  if (!w || &w->store_ != this)
    return fail(error_kind::internal, "layer store: commit of a writer from another store");
  auto ctx = [&](error e) {
    return tl::unexpected(
        std::move(e).context(fmt::format("layer {}: commit", w->diff_id_.string())));
  };
  // One syncfs for the whole layer: cheaper than an fsync per file, and
  // the layer must be on disk before its name says it is complete.
  if (::syncfs(tmp_fd_.get()) != 0) return ctx(error::from_errno(errno, "syncfs"));
  std::string hex(w->diff_id_.hex());
  if (::renameat2(tmp_fd_.get(), w->tmp_name_.c_str(), sha256_fd_.get(), hex.c_str(),
                  RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) return {};  // another pull won; ~writer drops ours
    return ctx(error::from_errno(errno, fmt::format("rename into sha256/{}", hex)));
  }
  w->committed_ = true;
  if (::fsync(sha256_fd_.get()) != 0) return ctx(error::from_errno(errno, "fsync sha256/"));
  crash_point(point("pull_image.after_layer_commit"));
  return {};
}

result<fs::path> dir_layer_store::path_of(const digest& diff_id) {
  auto present = has(diff_id);
  if (!present) return tl::unexpected(present.error());
  if (!*present)
    return fail(error_kind::not_found, fmt::format("layer {}: not in the store", diff_id.string()));
  return layers_ / "sha256" / std::string(diff_id.hex());
}

result<void> dir_layer_store::remove(const digest& diff_id) {
  auto ctx = [&](error e) {
    return tl::unexpected(std::move(e).context(fmt::format("layer {}: remove", diff_id.string())));
  };
  const std::string name = random_name("rm-");
  std::string hex(diff_id.hex());
  if (::renameat2(sha256_fd_.get(), hex.c_str(), tmp_fd_.get(), name.c_str(), RENAME_NOREPLACE) !=
      0) {
    if (errno == ENOENT)
      return fail(error_kind::not_found,
                  fmt::format("layer {}: not in the store", diff_id.string()));
    return ctx(error::from_errno(errno, "rename into tmp/"));
  }
  {
    std::lock_guard lock(usage_mutex_);
    usage_cache_.erase(hex);
  }
  if (::fsync(sha256_fd_.get()) != 0) return ctx(error::from_errno(errno, "fsync sha256/"));
  if (auto r = sys::remove_tree(tmp_fd_.get(), name); !r) return ctx(r.error());
  return {};
}

result<std::vector<digest>> dir_layer_store::list() {
  auto entries = sys::list_dir(sha256_fd_.get());
  if (!entries) return tl::unexpected(std::move(entries.error()).context("layer store: list"));
  std::vector<digest> out;
  for (const auto& e : *entries)
    if (auto d = digest::parse("sha256:" + e.name)) out.push_back(std::move(*d));
  std::sort(out.begin(), out.end());
  return out;
}

result<layer_usage> dir_layer_store::usage_of(const digest& diff_id) {
  std::string hex(diff_id.hex());
  {
    std::lock_guard lock(usage_mutex_);
    if (auto it = usage_cache_.find(hex); it != usage_cache_.end()) return it->second;
  }
  auto u = walk_usage(sha256_fd_.get(), hex);
  if (!u) return tl::unexpected(std::move(u.error()).context(fmt::format("layer {}", hex)));
  std::lock_guard lock(usage_mutex_);
  usage_cache_[hex] = *u;
  return *u;
}

result<layer_usage> dir_layer_store::usage() {
  auto layers = list();
  if (!layers) return tl::unexpected(layers.error());
  layer_usage total;
  for (const auto& d : *layers) {
    auto u = usage_of(d);
    if (!u) {
      if (u.error().sys_errno() == ENOENT) continue;  // removed meanwhile
      return tl::unexpected(u.error());
    }
    total.bytes += u->bytes;
    total.inodes += u->inodes;
  }
  return total;
}

void dir_layer_store::discard(const std::string& tmp_name) {
  // Best effort: what is left is deleted by the next open().
  (void)sys::remove_tree(tmp_fd_.get(), tmp_name);
}

}  // namespace ringcri::image
