#include "image/unpack/erofs_writer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

#include "base/sys/random.hpp"
#include "image/unpack/entry_path.hpp"
#include "image/unpack/erofs_format.hpp"

namespace ringcri::image {

namespace {

using erofs::block_size;

constexpr std::string_view acl_access_xattr = "system.posix_acl_access";
constexpr std::string_view acl_default_xattr = "system.posix_acl_default";
constexpr std::string_view capability_xattr = "security.capability";

constexpr std::size_t buffer_capacity = 1 << 20;
constexpr int max_symlinks = 40;                 // the kernel's MAXSYMLINKS for one lookup
constexpr std::uint64_t max_block = UINT32_MAX;  // block addresses are 32-bit

constexpr std::uint64_t round_up(std::uint64_t n, std::uint64_t to) {
  return (n + to - 1) / to * to;
}

// "entry "a/b": <why>", refused as the layer's fault.
tl::unexpected<error> refuse(const std::string& path, std::string_view why) {
  return tl::unexpected(
      error(error_kind::invalid_argument, fmt::format("entry \"{}\": {}", path, why)));
}

// What the system call `step` would have failed with for this entry,
// worded as tar_extractor words it.
tl::unexpected<error> entry_errno(const std::string& path, std::string_view step, int e) {
  if (e == EXDEV)
    return tl::unexpected(error(error_kind::invalid_argument,
                                fmt::format("entry \"{}\": resolves outside the layer root "
                                            "(through a symlink or \"..\")",
                                            path),
                                e));
  return tl::unexpected(error::from_errno(e, fmt::format("entry \"{}\": {}", path, step)));
}

// An xattr name as EROFS stores it: a prefix index and the rest.
struct xattr_key {
  std::uint8_t index;
  std::string_view suffix;
};

std::optional<xattr_key> split_xattr_name(std::string_view name) {
  if (name == acl_access_xattr) return xattr_key{erofs::xattr_index_posix_acl_access, {}};
  if (name == acl_default_xattr) return xattr_key{erofs::xattr_index_posix_acl_default, {}};
  static constexpr std::pair<std::string_view, std::uint8_t> prefixes[] = {
      {"user.", erofs::xattr_index_user},
      {"trusted.", erofs::xattr_index_trusted},
      {"security.", erofs::xattr_index_security},
  };
  for (const auto& [prefix, index] : prefixes)
    if (name.starts_with(prefix)) return xattr_key{index, name.substr(prefix.size())};
  return std::nullopt;
}

std::uint64_t xattr_entry_size(const std::string& name, const std::string& value) {
  auto key = split_xattr_name(name);
  return round_up(sizeof(erofs::xattr_entry) + key->suffix.size() + value.size(), 4);
}

std::uint64_t xattr_ibody_size(const std::map<std::string, std::string, std::less<>>& xattrs) {
  if (xattrs.empty()) return 0;
  std::uint64_t size = sizeof(erofs::xattr_ibody_header);
  for (const auto& [name, value] : xattrs) size += xattr_entry_size(name, value);
  return size;
}

constexpr std::uint64_t xattr_ibody_max =
    sizeof(erofs::xattr_ibody_header) + 4 * (erofs::xattr_icount_max - 1);

// security.capability as the kernel takes it (cap_convert_nscap): a v2
// header and 20 bytes, or v3 and 24 with a valid root uid.
bool valid_capability(std::string_view v) {
  auto le32 = [&](std::size_t at) {
    std::uint32_t x;
    std::memcpy(&x, v.data() + at, 4);
    return x;
  };
  if (v.size() < 4) return false;
  std::uint32_t revision = le32(0) & ~std::uint32_t{1};  // without the effective flag
  if (v.size() == 20) return revision == 0x02000000;
  if (v.size() == 24) return revision == 0x03000000 && le32(20) != UINT32_MAX;
  return false;
}

// --- POSIX ACLs, as the kernel applies them ---------------------------------
//
// An ACL set through setxattr moves the mode's permission bits and is not
// kept when the mode says all of it; chmod rewrites a kept one; a
// directory's default ACL becomes the ACL of what is made in it. The
// extractor gets all of that from the file system; here it is done by
// hand, so the two leave the same modes and xattrs.

struct acl_entry {
  std::uint16_t tag;
  std::uint16_t perm;
  std::uint32_t id;
};
using acl = std::vector<acl_entry>;

constexpr std::uint16_t acl_user_obj = 0x01, acl_user = 0x02, acl_group_obj = 0x04,
                        acl_group = 0x08, acl_mask = 0x10, acl_other = 0x20;
constexpr std::uint32_t acl_undefined_id = UINT32_MAX;

// The xattr value (version 2 header, then {tag, perm, id} entries) as
// posix_acl_from_xattr and posix_acl_valid take it: 0 and the entries
// (none: no ACL), or the errno setxattr gives.
int parse_acl(std::string_view value, acl& out) {
  out.clear();
  if (value.empty()) return 0;
  if (value.size() < 4 || (value.size() - 4) % 8 != 0) return EINVAL;
  auto le16 = [&](std::size_t at) {
    std::uint16_t x;
    std::memcpy(&x, value.data() + at, 2);
    return x;
  };
  auto le32 = [&](std::size_t at) {
    std::uint32_t x;
    std::memcpy(&x, value.data() + at, 4);
    return x;
  };
  if (le32(0) != 2) return EOPNOTSUPP;
  // The order posix_acl_valid demands: user_obj, users, group_obj,
  // groups, mask (required with named entries), other.
  enum { want_user_obj, in_users, in_groups, after_mask, done } state = want_user_obj;
  bool needs_mask = false;
  for (std::size_t at = 4; at < value.size(); at += 8) {
    acl_entry e{le16(at), le16(at + 2), le32(at + 4)};
    if (e.perm & ~7u) return EINVAL;
    switch (e.tag) {
      case acl_user_obj:
        if (state != want_user_obj) return EINVAL;
        state = in_users;
        break;
      case acl_user:
      case acl_group:
        if (state != (e.tag == acl_user ? in_users : in_groups) || e.id == acl_undefined_id)
          return EINVAL;
        needs_mask = true;
        break;
      case acl_group_obj:
        if (state != in_users) return EINVAL;
        state = in_groups;
        break;
      case acl_mask:
        if (state != in_groups) return EINVAL;
        state = after_mask;
        break;
      case acl_other:
        if (state != after_mask && (state != in_groups || needs_mask)) return EINVAL;
        state = done;
        break;
      default:
        return EINVAL;
    }
    if (e.tag != acl_user && e.tag != acl_group) e.id = acl_undefined_id;
    out.push_back(e);
  }
  return state == done ? 0 : EINVAL;
}

// As getxattr returns it.
std::string acl_bytes(const acl& entries) {
  std::string out(4 + 8 * entries.size(), '\0');
  const std::uint32_t version = 2;
  std::memcpy(out.data(), &version, 4);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::memcpy(out.data() + 4 + 8 * i, &entries[i].tag, 2);
    std::memcpy(out.data() + 4 + 8 * i + 2, &entries[i].perm, 2);
    std::memcpy(out.data() + 4 + 8 * i + 4, &entries[i].id, 4);
  }
  return out;
}

// posix_acl_equiv_mode: the mode's permission bits from the ACL; whether
// the ACL says more than they can (named entries or a mask).
bool acl_set_mode(const acl& entries, std::uint32_t& mode) {
  std::uint32_t perms = 0;
  bool more = false;
  const acl_entry* mask = nullptr;
  for (const auto& e : entries) {
    switch (e.tag) {
      case acl_user_obj:
        perms |= std::uint32_t{e.perm} << 6;
        break;
      case acl_group_obj:
        perms |= std::uint32_t{e.perm} << 3;
        break;
      case acl_other:
        perms |= e.perm;
        break;
      case acl_mask:
        mask = &e;
        more = true;
        break;
      default:
        more = true;
        break;
    }
  }
  if (mask) perms = (perms & ~std::uint32_t{070}) | (std::uint32_t{mask->perm} << 3);
  mode = (mode & ~std::uint32_t{0777}) | perms;
  return more;
}

// __posix_acl_chmod: the ACL's owner, mask (or group) and other entries
// from the mode.
void acl_chmod(acl& entries, std::uint32_t mode) {
  acl_entry* group = nullptr;
  acl_entry* mask = nullptr;
  for (auto& e : entries) {
    if (e.tag == acl_user_obj) e.perm = static_cast<std::uint16_t>((mode >> 6) & 7);
    if (e.tag == acl_group_obj) group = &e;
    if (e.tag == acl_mask) mask = &e;
    if (e.tag == acl_other) e.perm = static_cast<std::uint16_t>(mode & 7);
  }
  acl_entry* g = mask ? mask : group;
  if (g) g->perm = static_cast<std::uint16_t>((mode >> 3) & 7);
}

// __posix_acl_create: a new inode's ACL from its directory's default ACL
// and the mode it is made with, both narrowed to what the other allows.
// Whether the ACL says more than the mode.
bool acl_create(acl& entries, std::uint32_t& mode) {
  std::uint32_t m = mode;
  bool more = false;
  acl_entry* group = nullptr;
  acl_entry* mask = nullptr;
  for (auto& e : entries) {
    switch (e.tag) {
      case acl_user_obj:
        e.perm &= static_cast<std::uint16_t>((m >> 6) & 7);
        m &= (std::uint32_t{e.perm} << 6) | ~std::uint32_t{0700};
        break;
      case acl_other:
        e.perm &= static_cast<std::uint16_t>(m & 7);
        m &= e.perm | ~std::uint32_t{07};
        break;
      case acl_group_obj:
        group = &e;
        break;
      case acl_mask:
        mask = &e;
        more = true;
        break;
      default:
        more = true;
        break;
    }
  }
  if (acl_entry* g = mask ? mask : group) {
    g->perm &= static_cast<std::uint16_t>((m >> 3) & 7);
    m &= (std::uint32_t{g->perm} << 3) | ~std::uint32_t{070};
  }
  mode = (mode & ~std::uint32_t{0777}) | (m & 0777);
  return more;
}

erofs::file_type file_type_of(std::uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return erofs::file_type::regular;
    case S_IFDIR:
      return erofs::file_type::directory;
    case S_IFLNK:
      return erofs::file_type::symlink;
    case S_IFCHR:
      return erofs::file_type::char_device;
    case S_IFBLK:
      return erofs::file_type::block_device;
    case S_IFIFO:
      return erofs::file_type::fifo;
    default:
      return erofs::file_type::unknown;
  }
}

result<void> write_at(int fd, std::span<const std::byte> bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, "write EROFS image");
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

// An on-disk struct's bytes.
template <class T>
std::span<const std::byte> struct_bytes(const T& t) {
  return std::as_bytes(std::span<const T, 1>(&t, 1));
}

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

}  // namespace

// --- the tree ---------------------------------------------------------------

struct erofs_writer::node {
  std::uint32_t mode = 0;  // S_IF* | permission bits
  std::uint32_t uid = 0, gid = 0;
  std::int64_t mtime_sec = 0;
  std::uint32_t mtime_nsec = 0;
  std::uint32_t links = 0;        // names it has (not for directories)
  std::uint64_t size = 0;         // a regular file's data bytes
  std::uint64_t start_block = 0;  // where a file's (or finish()'s content's) blocks start
  std::uint32_t rdev = 0;         // a device's number, encoded
  std::string target;             // a symlink's
  std::map<std::string, std::string, std::less<>> xattrs;
  node* parent = nullptr;                              // a directory's
  std::map<std::string, node*, std::less<>> children;  // a directory's, sorted as bytes

  // Where finish() puts it.
  bool placed = false;
  std::uint64_t nid = 0;
  std::uint64_t content_size = 0;  // a directory's dirents, a symlink's target
  std::uint64_t inline_size = 0;   // the tail of the content after the inode
  std::uint64_t own_blocks = 0;    // whole blocks of content after the metadata

  bool is_dir() const { return S_ISDIR(mode); }
  bool is_symlink() const { return S_ISLNK(mode); }
};

// A lookup's end: the node, or the errno the kernel would give.
struct erofs_writer::walk {
  node* at = nullptr;
  int err = 0;
};

// --- output -----------------------------------------------------------------

erofs_writer::output::output(int fd, std::uint64_t offset) : fd_(fd), flushed_(offset) {
  buffer_.reserve(buffer_capacity);
}

// The cost: file data is copied once into the buffer (a piece as large as
// the buffer goes straight out), and written once a MiB.
result<void> erofs_writer::output::append(std::span<const std::byte> bytes) {
  if (buffer_.empty() && bytes.size() >= buffer_capacity) {
    if (auto r = write_at(fd_, bytes, flushed_); !r) return r;
    flushed_ += bytes.size();
    start_writeback();
    return {};
  }
  while (!bytes.empty()) {
    std::size_t n = std::min(buffer_capacity - buffer_.size(), bytes.size());
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    bytes = bytes.subspan(n);
    if (buffer_.size() == buffer_capacity)
      if (auto r = flush(); !r) return r;
  }
  return {};
}

result<void> erofs_writer::output::append_zeros(std::uint64_t count) {
  while (count > 0) {
    std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer_capacity - buffer_.size(), count));
    buffer_.resize(buffer_.size() + n, std::byte{0});
    count -= n;
    if (buffer_.size() == buffer_capacity)
      if (auto r = flush(); !r) return r;
  }
  return {};
}

result<void> erofs_writer::output::pad_to(std::uint64_t target) {
  if (target < offset())  // a layout that does not add up: never pad around the 64-bit clock
    return fail(error_kind::internal,
                fmt::format("EROFS image: padding back from byte {} to {}", offset(), target));
  return append_zeros(target - offset());
}

result<void> erofs_writer::output::flush() {
  if (auto r = write_at(fd_, buffer_, flushed_); !r) return r;
  flushed_ += buffer_.size();
  buffer_.clear();
  start_writeback();
  return {};
}

// The disk writes start as the image grows, a few MiB at a time, not all
// at the fsync that commits the layer: that one then waits for the tail
// only, and the writes overlap the fetch. Advisory: an fd that cannot
// (a memfd) just does not.
void erofs_writer::output::start_writeback() {
  constexpr std::uint64_t step = std::uint64_t{4} << 20;
  if (flushed_ - writeback_from_ < step) return;
  ::sync_file_range(fd_, static_cast<off64_t>(writeback_from_),
                    static_cast<off64_t>(flushed_ - writeback_from_), SYNC_FILE_RANGE_WRITE);
  writeback_from_ = flushed_;
}

// --- entries ----------------------------------------------------------------

erofs_writer::erofs_writer(int image_fd) : image_fd_(image_fd), out_(image_fd, block_size) {
  ::clock_gettime(CLOCK_REALTIME, &build_time_);
  nodes_.push_back(std::make_unique<node>());
  root_ = nodes_.back().get();
  root_->mode = S_IFDIR | 0755;
  root_->mtime_sec = build_time_.tv_sec;
  root_->mtime_nsec = static_cast<std::uint32_t>(build_time_.tv_nsec);
}

erofs_writer::~erofs_writer() = default;

result<void> erofs_writer::on_entry(const tar_entry& e) {
  if (finished_) return fail(error_kind::failed_precondition, "EROFS image already finished");
  if (auto r = end_file(); !r) return r;
  auto clean = clean_entry_path(e.path);
  if (!clean) return tl::unexpected(clean.error());
  for (std::size_t start = 0; start < clean->size();) {
    std::size_t end = std::min(clean->find('/', start), clean->size());
    if (end - start > erofs::name_max) return entry_errno(e.path, "create", ENAMETOOLONG);
    start = end + 1;
  }
  std::string name(name_of(*clean));

  if (name.starts_with(whiteout_prefix)) return whiteout(*clean, e);

  if (clean->empty()) {  // "." or "./": the root itself
    if (e.type != tar_entry_type::directory)
      return refuse(e.path, fmt::format("a {} cannot replace the layer root", to_string(e.type)));
    return directory(nullptr, name, e);
  }

  auto parent = parent_dir(parent_of(*clean), e.path);
  if (!parent) return tl::unexpected(parent.error());
  switch (e.type) {
    case tar_entry_type::regular:
      return regular(*parent, name, e);
    case tar_entry_type::directory:
      return directory(*parent, name, e);
    case tar_entry_type::symlink:
      return symlink(*parent, name, e);
    case tar_entry_type::hard_link:
      return hard_link(*parent, name, e);
    case tar_entry_type::char_device:
    case tar_entry_type::block_device:
    case tar_entry_type::fifo:
      return special(*parent, name, e);
  }
  return {};
}

result<void> erofs_writer::on_data(std::span<const std::byte> piece) {
  if (!file_) return {};
  file_->size += piece.size();
  counts_.bytes += piece.size();
  return out_.append(piece);
}

result<void> erofs_writer::on_entry_end() { return end_file(); }

// The file's last block filled with zeros: the next file starts on a
// block of its own.
result<void> erofs_writer::end_file() {
  if (!file_) return {};
  file_ = nullptr;
  return out_.pad_to(round_up(out_.offset(), block_size));
}

// --- paths ------------------------------------------------------------------

erofs_writer::node* erofs_writer::create(node* dir, std::string_view name, std::uint32_t mode) {
  nodes_.push_back(std::make_unique<node>());
  node* n = nodes_.back().get();
  n->mode = mode;
  if (!n->is_symlink())
    if (auto inherited = dir->xattrs.find(acl_default_xattr); inherited != dir->xattrs.end()) {
      acl entries;
      parse_acl(inherited->second, entries);  // stored valid
      if (acl_create(entries, n->mode)) n->xattrs.emplace(acl_access_xattr, acl_bytes(entries));
      if (n->is_dir()) n->xattrs.emplace(acl_default_xattr, inherited->second);
    }
  if (n->is_dir())
    n->parent = dir;
  else
    n->links = 1;
  dir->children.emplace(name, n);
  return n;
}

// A directory the archive does not list (yet): 0755, root's, or the
// group of a setgid parent, as mkdir makes it.
erofs_writer::node* erofs_writer::make_directory(node* parent, std::string_view name) {
  node* d = create(parent, name, S_IFDIR | 0755);
  d->gid = (parent->mode & S_ISGID) ? parent->gid : 0;
  d->mtime_sec = build_time_.tv_sec;
  d->mtime_nsec = static_cast<std::uint32_t>(build_time_.tv_nsec);
  chmod(*d, 0755);
  return d;
}

void erofs_writer::chmod(node& n, std::uint32_t perms) {
  n.mode = (n.mode & S_IFMT) | (perms & 07777);
  if (auto it = n.xattrs.find(acl_access_xattr); it != n.xattrs.end()) {
    acl entries;
    parse_acl(it->second, entries);
    acl_chmod(entries, n.mode);
    it->second = acl_bytes(entries);
  }
}

// Removes `name` from `dir` if it is there: a directory with all it
// holds; a file loses one of its names.
void erofs_writer::unlink(node* dir, std::string_view name) {
  auto it = dir->children.find(name);
  if (it == dir->children.end()) return;
  node* gone = it->second;
  dir->children.erase(it);
  if (!gone->is_dir()) {
    --gone->links;
    return;
  }
  std::vector<node*> dirs{gone};
  while (!dirs.empty()) {
    node* d = dirs.back();
    dirs.pop_back();
    for (auto& [child_name, child] : d->children)
      if (child->is_dir())
        dirs.push_back(child);
      else
        --child->links;
    d->children.clear();
  }
}

// `path` looked up from directory `from` as openat2(RESOLVE_BENEATH) does
// on the extractor's root: symlinks followed (the last component only if
// `follow_last`), an absolute one or ".." at the root EXDEV, a missing
// component ENOENT, more than `links_left` symlinks ELOOP.
erofs_writer::walk erofs_writer::resolve(node* from, std::string_view path, int& links_left,
                                         bool follow_last) {
  if (path.empty()) return {nullptr, ENOENT};
  if (path.front() == '/') return {nullptr, EXDEV};
  node* at = from;
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (part.empty()) continue;
    if (!at->is_dir()) return {nullptr, ENOTDIR};
    if (part == ".") continue;
    if (part == "..") {
      if (at == root_) return {nullptr, EXDEV};
      at = at->parent;
      continue;
    }
    auto it = at->children.find(part);
    if (it == at->children.end()) return {nullptr, ENOENT};
    node* next = it->second;
    bool last = path.find_first_not_of('/') == std::string_view::npos;
    if (next->is_symlink() && (follow_last || !last)) {
      if (--links_left < 0) return {nullptr, ELOOP};
      walk w = resolve(at, next->target, links_left, true);
      if (w.err) return w;
      next = w.at;
    }
    at = next;
  }
  return {at, 0};
}

// The directory an entry goes in, made (and its parents) where missing;
// symlinks on the way followed as long as they stay beneath the root.
result<erofs_writer::node*> erofs_writer::parent_dir(std::string_view parent,
                                                     const std::string& entry_path) {
  if (parent.size() >= PATH_MAX) return entry_errno(entry_path, "open parent", ENAMETOOLONG);
  node* at = root_;
  int links_left = max_symlinks;
  for (std::size_t start = 0; start < parent.size();) {
    std::size_t end = std::min(parent.find('/', start), parent.size());
    std::string_view part = parent.substr(start, end - start);
    std::string_view prefix = parent.substr(0, end);
    start = end + 1;
    auto it = at->children.find(part);
    if (it == at->children.end()) {
      at = make_directory(at, part);
      continue;
    }
    node* next = it->second;
    if (next->is_symlink()) {
      walk w{nullptr, ELOOP};
      if (--links_left >= 0) w = resolve(at, next->target, links_left, true);
      if (w.err == ENOENT)
        return refuse(entry_path, fmt::format("parent {} is a dangling symlink", prefix));
      if (w.err) return entry_errno(entry_path, fmt::format("open {}", prefix), w.err);
      next = w.at;
    }
    if (!next->is_dir()) return entry_errno(entry_path, fmt::format("open {}", prefix), ENOTDIR);
    at = next;
  }
  return at;
}

// --- entry types ------------------------------------------------------------

result<void> erofs_writer::regular(node* dir, const std::string& name, const tar_entry& e) {
  unlink(dir, name);
  node* n = create(dir, name, S_IFREG | 0600);
  if (auto r = set_metadata(*n, e); !r) return r;
  n->start_block = out_.offset() / block_size;
  file_ = n;
  ++counts_.files;
  return {};
}

// A directory entry, or the root's (`dir` null): made if missing (what
// was there of another type removed), its metadata set if it exists.
result<void> erofs_writer::directory(node* dir, const std::string& name, const tar_entry& e) {
  node* d = root_;
  if (dir) {
    auto it = dir->children.find(name);
    if (it != dir->children.end() && it->second->is_dir()) {
      d = it->second;
    } else {
      unlink(dir, name);
      d = create(dir, name, S_IFDIR | 0700);
    }
  }
  if (auto r = set_metadata(*d, e); !r) return r;
  ++counts_.directories;
  return {};
}

result<void> erofs_writer::symlink(node* dir, const std::string& name, const tar_entry& e) {
  // What symlinkat(2) takes: a C string, not empty, shorter than PATH_MAX.
  std::string target = e.link_target.substr(0, e.link_target.find('\0'));
  if (target.empty()) return entry_errno(e.path, "symlink", ENOENT);
  if (target.size() >= PATH_MAX) return entry_errno(e.path, "symlink", ENAMETOOLONG);
  unlink(dir, name);
  node* n = create(dir, name, S_IFLNK | 0777);
  n->target = std::move(target);
  if (auto r = set_metadata(*n, e); !r) return r;
  ++counts_.symlinks;
  return {};
}

result<void> erofs_writer::hard_link(node* dir, const std::string& name, const tar_entry& e) {
  auto target = clean_entry_path(e.link_target);
  if (!target) {
    // "entry "/etc/passwd": absolute path" -> "... hard link target "/etc/passwd": ..."
    std::string_view why = target.error().message();
    if (why.starts_with("entry ")) why.remove_prefix(6);
    return refuse(e.path, fmt::format("hard link target {}", why));
  }
  if (target->empty()) return refuse(e.path, "hard link to the layer root");
  if (target->size() >= PATH_MAX) return entry_errno(e.path, "open target", ENAMETOOLONG);
  // The target itself, not followed if it is a symlink (a hard link to a
  // symlink links the symlink); its parents confined like every path.
  int links_left = max_symlinks;
  walk found = resolve(root_, *target, links_left, false);
  if (found.err == ENOENT)
    return refuse(e.path,
                  fmt::format("hard link target \"{}\" is not in the layer", e.link_target));
  if (found.err) return entry_errno(e.path, fmt::format("open {}", *target), found.err);
  if (found.at->is_dir())
    return refuse(e.path, fmt::format("hard link to directory \"{}\"", e.link_target));

  auto existing = dir->children.find(name);
  if (existing != dir->children.end()) {
    if (existing->second == found.at) return {};  // already that inode
    unlink(dir, name);
  }
  // Removing what was there may have removed the target's last name.
  if (found.at->links == 0) return entry_errno(e.path, "link", ENOENT);
  dir->children.emplace(name, found.at);
  ++found.at->links;
  ++counts_.hard_links;
  return {};
}

result<void> erofs_writer::special(node* dir, const std::string& name, const tar_entry& e) {
  std::uint32_t type = e.type == tar_entry_type::char_device    ? S_IFCHR
                       : e.type == tar_entry_type::block_device ? S_IFBLK
                                                                : S_IFIFO;
  std::uint32_t rdev = 0;
  if (type != S_IFIFO) {
    // Kernel device numbers have 12 bits of major and 20 of minor.
    if (e.dev_major > erofs::dev_major_max || e.dev_minor > erofs::dev_minor_max)
      return entry_errno(e.path, "mknod", EINVAL);
    rdev = erofs::encode_dev(e.dev_major, e.dev_minor);
  }
  unlink(dir, name);
  node* n = create(dir, name, type | 0600);
  n->rdev = rdev;
  if (auto r = set_metadata(*n, e); !r) return r;
  ++counts_.devices;
  return {};
}

result<void> erofs_writer::whiteout(const std::string& clean, const tar_entry& e) {
  std::string_view base = name_of(clean);
  auto parent = parent_dir(parent_of(clean), e.path);
  if (!parent) return tl::unexpected(parent.error());
  if (base == opaque_marker) {
    if (auto r = set_xattr(**parent, std::string(opaque_xattr), "y", e.path); !r) return r;
    ++counts_.opaque_dirs;
    return {};
  }
  if (base.starts_with(whiteout_meta_prefix)) return {};  // aufs bookkeeping: no meaning here
  std::string_view hidden = base.substr(whiteout_prefix.size());
  if (hidden.empty() || hidden == "." || hidden == "..")
    return refuse(e.path, "whiteout of an invalid name");
  unlink(*parent, hidden);
  node* n = create(*parent, hidden, S_IFCHR);  // mode 0, device 0:0
  n->uid = e.uid;
  n->gid = e.gid;
  n->mtime_sec = e.mtime_sec;
  n->mtime_nsec = e.mtime_nsec;
  ++counts_.whiteouts;
  return {};
}

// --- metadata ---------------------------------------------------------------

// The entry's owner, mode (not a symlink's: it has none), xattrs and
// mtime, in the extractor's order: chown, chmod, then the xattrs, which a
// POSIX ACL among them may change the mode after.
result<void> erofs_writer::set_metadata(node& n, const tar_entry& e) {
  n.uid = e.uid;
  n.gid = e.gid;
  if (!n.is_symlink()) chmod(n, e.mode);
  for (const auto& [name, value] : e.xattrs) {
    if (!keep_xattr(name)) continue;
    if (auto r = set_xattr(n, name, value, e.path); !r) return r;
  }
  n.mtime_sec = e.mtime_sec;
  n.mtime_nsec = e.mtime_nsec;
  return {};
}

// One xattr, refused where setxattr(2) on the extractor's file system
// would refuse it, or where EROFS cannot hold it.
result<void> erofs_writer::set_xattr(node& n, const std::string& name, const std::string& value,
                                     const std::string& entry_path) {
  auto no = [&](int err) {
    return entry_errno(entry_path, fmt::format("set xattr {}", name), err);
  };
  if (name.empty() || name.size() > XATTR_NAME_MAX) return no(ERANGE);
  auto key = split_xattr_name(name);
  if (!key) return no(EOPNOTSUPP);  // a prefix no file system here serves
  bool whole_name = key->index == erofs::xattr_index_posix_acl_access ||
                    key->index == erofs::xattr_index_posix_acl_default;
  if (!whole_name && key->suffix.empty()) return no(EINVAL);
  if (value.size() > UINT16_MAX) return no(E2BIG);
  bool regular_or_dir = S_ISREG(n.mode) || n.is_dir();
  if (key->index == erofs::xattr_index_user && !regular_or_dir) return no(EPERM);
  if (name == capability_xattr && !valid_capability(value)) return no(EINVAL);

  if (whole_name) {
    if (n.is_symlink()) return no(EOPNOTSUPP);
    acl entries;
    if (int err = parse_acl(value, entries); err != 0) return no(err);
    bool keep = !entries.empty();
    if (key->index == erofs::xattr_index_posix_acl_access) {
      if (keep) keep = acl_set_mode(entries, n.mode);  // one the mode says in full goes
    } else if (!n.is_dir()) {
      if (keep) return no(EACCES);  // a default ACL is for directories only
      return {};
    }
    if (!keep) {
      n.xattrs.erase(name);
      return {};
    }
    n.xattrs[name] = acl_bytes(entries);
  } else {
    n.xattrs[name] = value;
  }
  if (xattr_ibody_size(n.xattrs) > xattr_ibody_max) {
    n.xattrs.erase(name);
    return no(ENOSPC);
  }
  return {};
}

// --- the image --------------------------------------------------------------

result<void> erofs_writer::finish() {
  if (finished_) return fail(error_kind::failed_precondition, "EROFS image already finished");
  finished_ = true;
  if (auto r = end_file(); !r) return r;
  // The data ends on a block boundary (block 1 if there is none); the
  // metadata starts there.
  const std::uint64_t meta_start = out_.offset();
  const std::uint64_t meta_blkaddr = meta_start / block_size;

  // The inodes in the order they are written: breadth first from the
  // root, so the root is nid 0 (the superblock has 16 bits for it) and a
  // directory's children lie near one another. Each once, however many
  // names it has.
  std::vector<node*> order{root_};
  root_->placed = true;
  for (std::size_t i = 0; i < order.size(); ++i)
    for (auto& [name, child] : order[i]->children)
      if (!child->placed) {
        child->placed = true;
        order.push_back(child);
      }

  // A directory's dirents in name order with "." and "..", and how they
  // fill blocks: each block as many as fit, whole.
  struct dir_entry {
    std::string_view name;
    const node* who;
  };
  auto entries_of = [&](const node& d) {
    std::vector<dir_entry> entries;
    entries.reserve(d.children.size() + 2);
    for (const auto& [name, child] : d.children) entries.push_back({name, child});
    for (dir_entry special : {dir_entry{".", &d}, dir_entry{"..", d.parent ? d.parent : &d}}) {
      auto at =
          std::lower_bound(entries.begin(), entries.end(), special,
                           [](const dir_entry& a, const dir_entry& b) { return a.name < b.name; });
      entries.insert(at, special);
    }
    return entries;
  };
  // Calls block(first, last, used) for each block: the entries it holds
  // and the bytes they take.
  auto for_each_block = [](const std::vector<dir_entry>& entries, auto&& block) {
    std::size_t first = 0;
    std::uint64_t used = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      std::uint64_t need = sizeof(erofs::dirent) + entries[i].name.size();
      if (used + need > block_size) {
        block(first, i, used);
        first = i;
        used = 0;
      }
      used += need;
    }
    block(first, entries.size(), used);
  };

  // Sizes and places. A directory's or symlink's content goes after its
  // inode and xattrs when its last partial block fits there, in the same
  // block; the whole blocks before it (or all of it, when it does not
  // fit) after the metadata area.
  std::uint64_t pos = 0;  // in the metadata area
  for (node* n : order) {
    const std::uint64_t xattr_size = xattr_ibody_size(n->xattrs);
    if (n->is_dir()) {
      std::uint64_t blocks = 0, last = 0;
      for_each_block(entries_of(*n), [&](std::size_t, std::size_t, std::uint64_t used) {
        ++blocks;
        last = used;
      });
      n->content_size = (blocks - 1) * block_size + last;
    } else if (n->is_symlink()) {
      n->content_size = n->target.size();
    }
    if (n->is_dir() || n->is_symlink()) {
      std::uint64_t tail = n->content_size % block_size;
      if (tail != 0 && sizeof(erofs::inode_extended_disk) + xattr_size + tail <= block_size) {
        n->inline_size = tail;
        n->own_blocks = n->content_size / block_size;
      } else {
        n->own_blocks = (n->content_size + block_size - 1) / block_size;
      }
    }
    const std::uint64_t record = sizeof(erofs::inode_extended_disk) + xattr_size + n->inline_size;
    if (pos % block_size + record > block_size) pos = round_up(pos, block_size);
    n->nid = pos >> erofs::slot_bits;
    pos += round_up(record, erofs::slot_size);
  }
  const std::uint64_t meta_blocks = (pos + block_size - 1) / block_size;
  std::uint64_t next_block = meta_blkaddr + meta_blocks;
  for (node* n : order)
    if (n->own_blocks > 0) {
      n->start_block = next_block;
      next_block += n->own_blocks;
    }
  if (next_block > max_block)
    return fail(
        error_kind::resource_exhausted,
        fmt::format("EROFS image: {} blocks, more than 32-bit block addresses reach", next_block));

  // A directory's content: its dirent blocks, the last one cut after its
  // last name.
  auto dir_content = [&](const node& d) {
    std::string out;
    out.reserve(d.content_size);
    auto entries = entries_of(d);
    for_each_block(entries, [&](std::size_t first, std::size_t last, std::uint64_t) {
      std::uint64_t nameoff = sizeof(erofs::dirent) * (last - first);
      for (std::size_t i = first; i < last; ++i) {
        const node* child = entries[i].who;
        erofs::dirent de{};
        de.nid = child->nid;
        de.nameoff = static_cast<std::uint16_t>(nameoff);
        de.file_type = static_cast<std::uint8_t>(file_type_of(child->mode));
        out.append(reinterpret_cast<const char*>(&de), sizeof de);
        nameoff += entries[i].name.size();
      }
      for (std::size_t i = first; i < last; ++i) out.append(entries[i].name);
      if (last < entries.size()) out.resize(round_up(out.size(), block_size), '\0');
    });
    return out;
  };
  auto content_of = [&](const node& n) { return n.is_dir() ? dir_content(n) : n.target; };

  // The metadata area: each inode at its nid, its xattrs, its inline tail.
  for (std::size_t i = 0; i < order.size(); ++i) {
    const node& n = *order[i];
    if (auto r = out_.pad_to(meta_start + (n.nid << erofs::slot_bits)); !r) return r;
    const std::uint64_t xattr_size = xattr_ibody_size(n.xattrs);
    erofs::inode_extended_disk d{};
    d.i_format = erofs::format_of(n.inline_size ? erofs::data_layout::flat_inline
                                                : erofs::data_layout::flat_plain);
    d.i_xattr_icount = static_cast<std::uint16_t>(
        xattr_size ? 1 + (xattr_size - sizeof(erofs::xattr_ibody_header)) / 4 : 0);
    d.i_mode = static_cast<std::uint16_t>(n.mode);
    d.i_size = S_ISREG(n.mode) ? n.size : n.content_size;
    if (S_ISCHR(n.mode) || S_ISBLK(n.mode))
      d.i_u = n.rdev;
    else if ((S_ISREG(n.mode) && n.size > 0) || n.own_blocks > 0)
      d.i_u = static_cast<std::uint32_t>(n.start_block);
    d.i_ino = static_cast<std::uint32_t>(i + 1);
    d.i_uid = n.uid;
    d.i_gid = n.gid;
    d.i_mtime = static_cast<std::uint64_t>(n.mtime_sec);
    d.i_mtime_nsec = n.mtime_nsec;
    if (n.is_dir()) {
      std::uint32_t subdirs = 0;
      for (const auto& [name, child] : n.children) subdirs += child->is_dir();
      d.i_nlink = 2 + subdirs;
    } else {
      d.i_nlink = n.links;
    }
    if (auto r = out_.append(struct_bytes(d)); !r) return r;

    if (xattr_size > 0) {
      erofs::xattr_ibody_header h{};
      if (auto r = out_.append(struct_bytes(h)); !r) return r;
      for (const auto& [name, value] : n.xattrs) {
        auto key = split_xattr_name(name);
        erofs::xattr_entry x{static_cast<std::uint8_t>(key->suffix.size()), key->index,
                             static_cast<std::uint16_t>(value.size())};
        std::uint64_t size = sizeof x + key->suffix.size() + value.size();
        if (auto r = out_.append(struct_bytes(x)); !r) return r;
        if (auto r = out_.append(bytes_of(key->suffix)); !r) return r;
        if (auto r = out_.append(bytes_of(value)); !r) return r;
        if (auto r = out_.append_zeros(round_up(size, 4) - size); !r) return r;
      }
    }
    if (n.inline_size > 0) {
      std::string content = content_of(n);
      std::string_view tail(content);
      if (auto r = out_.append(bytes_of(tail.substr(tail.size() - n.inline_size))); !r) return r;
    }
  }
  if (auto r = out_.pad_to((meta_blkaddr + meta_blocks) * block_size); !r) return r;

  // The whole blocks of content that did not go inline.
  for (const node* n : order) {
    if (n->own_blocks == 0) continue;
    std::string content = content_of(*n);
    std::string_view whole(content);
    whole = whole.substr(0, std::min<std::uint64_t>(whole.size(), n->own_blocks * block_size));
    if (auto r = out_.append(bytes_of(whole)); !r) return r;
    if (auto r = out_.pad_to((n->start_block + n->own_blocks) * block_size); !r) return r;
  }
  if (auto r = out_.flush(); !r) return r;

  // Block 0 last: an image is not one until it has its superblock.
  erofs::super_block sb{};
  sb.magic = erofs::super_magic;
  sb.blkszbits = erofs::block_bits;
  sb.root_nid = static_cast<std::uint16_t>(root_->nid);
  sb.inos = order.size();
  sb.epoch = static_cast<std::uint64_t>(build_time_.tv_sec);
  sb.epoch_nsec = static_cast<std::uint32_t>(build_time_.tv_nsec);
  sb.blocks = static_cast<std::uint32_t>(next_block);
  sb.meta_blkaddr = static_cast<std::uint32_t>(meta_blkaddr);
  // A random (version 4) uuid: overlayfs tells its lower layers apart by
  // it, and turns xino off when two share one.
  sys::random_bytes(std::as_writable_bytes(std::span(sb.uuid)));
  sb.uuid[6] = static_cast<std::uint8_t>((sb.uuid[6] & 0x0f) | 0x40);
  sb.uuid[8] = static_cast<std::uint8_t>((sb.uuid[8] & 0x3f) | 0x80);
  std::vector<std::byte> block0(block_size);
  std::memcpy(block0.data() + erofs::super_offset, &sb, sizeof sb);
  if (auto r = write_at(image_fd_, block0, 0); !r) return r;
  if (::ftruncate(image_fd_, static_cast<off_t>(next_block * block_size)) != 0)
    return fail_errno(errno, "truncate EROFS image");
  return {};
}

}  // namespace ringcri::image
