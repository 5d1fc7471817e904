#include "image/unpack/tar_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_map>

namespace ringcri::image {

namespace {

// The largest PAX record set or GNU long name accepted, as Go's
// archive/tar: enough for any real path, small enough that a hostile
// archive cannot make us buffer much.
constexpr std::uint64_t max_extension_size = 1 << 20;
// The most xattr bytes (names and values) one entry may carry: far over
// what Linux stores (64 KiB a value, 64 KiB of names), and a bound on what
// one entry hands the extractor whatever the extension limit.
constexpr std::uint64_t max_xattr_bytes = 1 << 20;
constexpr std::uint64_t block_size = 512;
constexpr std::uint64_t max_id = 0xFFFFFFFEu;  // (uid_t)-1 means "unchanged" to chown

std::uint64_t padding_of(std::uint64_t size) {
  return (block_size - size % block_size) % block_size;
}

// A NUL-terminated (or full-width) text field of the header.
std::string_view text_field(const std::byte* block, std::size_t at, std::size_t width) {
  const char* p = reinterpret_cast<const char*>(block + at);
  return std::string_view(p, strnlen(p, width));
}

std::string_view until_nul(std::string_view s) { return s.substr(0, s.find('\0')); }

// A numeric field: octal text padded with spaces or NULs, or GNU base-256
// (first byte's high bit set; two's complement when the next bit is set).
std::optional<std::int64_t> numeric_field(const std::byte* block, std::size_t at,
                                          std::size_t width) {
  const auto* b = reinterpret_cast<const unsigned char*>(block + at);
  if (b[0] & 0x80) {
    unsigned char invert = (b[0] & 0x40) ? 0xff : 0x00;
    std::uint64_t x = 0;
    for (std::size_t i = 0; i < width; ++i) {
      unsigned char c = b[i] ^ invert;
      if (i == 0) c &= 0x7f;
      if (x >> 56) return std::nullopt;
      x = x << 8 | c;
    }
    if (x >> 63) return std::nullopt;
    return invert ? ~static_cast<std::int64_t>(x) : static_cast<std::int64_t>(x);
  }
  std::size_t first = 0, last = width;
  while (first < last && (b[first] == ' ' || b[first] == 0)) ++first;
  while (last > first && (b[last - 1] == ' ' || b[last - 1] == 0)) --last;
  std::uint64_t x = 0;
  for (std::size_t i = first; i < last; ++i) {
    if (b[i] < '0' || b[i] > '7') return std::nullopt;
    if (x >> 60) return std::nullopt;
    x = x * 8 + (b[i] - '0');
  }
  if (x >> 63) return std::nullopt;
  return static_cast<std::int64_t>(x);
}

std::optional<std::uint64_t> decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t x = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    x = x * 10 + static_cast<unsigned>(c - '0');
  }
  return x;
}

// PAX time: "[-]seconds[.fraction]", fraction up to nanoseconds (more
// digits are cut). The result is normalised to 0 <= nsec < 1e9.
std::optional<std::pair<std::int64_t, std::uint32_t>> pax_time(std::string_view s) {
  bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  std::string_view whole = s.substr(0, s.find('.'));
  std::string_view fraction =
      whole.size() < s.size() ? s.substr(whole.size() + 1) : std::string_view{};
  auto secs = decimal(whole);
  if (!secs || *secs > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() - 1))
    return std::nullopt;
  std::uint32_t nsec = 0;
  for (std::size_t i = 0; i < fraction.size(); ++i) {
    if (fraction[i] < '0' || fraction[i] > '9') return std::nullopt;
    if (i < 9) nsec = nsec * 10 + static_cast<unsigned>(fraction[i] - '0');
  }
  for (std::size_t i = fraction.size(); i < 9; ++i) nsec *= 10;
  auto sec = static_cast<std::int64_t>(*secs);
  if (!negative) return std::pair{sec, nsec};
  if (nsec == 0) return std::pair{-sec, 0u};
  return std::pair{-sec - 1, 1'000'000'000u - nsec};
}

}  // namespace

std::string_view to_string(tar_entry_type type) {
  switch (type) {
    case tar_entry_type::regular:
      return "file";
    case tar_entry_type::hard_link:
      return "hard link";
    case tar_entry_type::symlink:
      return "symlink";
    case tar_entry_type::char_device:
      return "char device";
    case tar_entry_type::block_device:
      return "block device";
    case tar_entry_type::directory:
      return "directory";
    case tar_entry_type::fifo:
      return "fifo";
  }
  return "unknown";
}

tl::unexpected<error> tar_reader::bad_header(std::string_view why) const {
  return fail(error_kind::invalid_argument,
              fmt::format("tar header at byte {}: {}", header_offset_, why));
}

result<void> tar_reader::feed(std::span<const std::byte> input) {
  while (!input.empty()) {
    switch (state_) {
      case state::header:
      case state::after_zero_block: {
        if (block_fill_ == 0) header_offset_ = offset_;
        std::size_t take = std::min<std::size_t>(block_size - block_fill_, input.size());
        std::memcpy(block_ + block_fill_, input.data(), take);
        block_fill_ += take;
        offset_ += take;
        input = input.subspan(take);
        if (block_fill_ == block_size) {
          block_fill_ = 0;
          if (auto r = on_header(); !r) return r;
        }
        break;
      }
      case state::extension: {
        std::size_t take = std::min<std::uint64_t>(remaining_, input.size());
        extension_.append(reinterpret_cast<const char*>(input.data()), take);
        remaining_ -= take;
        offset_ += take;
        input = input.subspan(take);
        if (remaining_ == 0) {
          if (auto r = on_extension(); !r) return r;
          remaining_ = padding_;
          state_ = remaining_ ? state::skip : state::header;
        }
        break;
      }
      case state::data: {
        std::size_t take = std::min<std::uint64_t>(remaining_, input.size());
        if (auto r = visitor_.on_data(input.first(take)); !r) return r;
        remaining_ -= take;
        offset_ += take;
        input = input.subspan(take);
        if (remaining_ == 0) {
          if (auto r = visitor_.on_entry_end(); !r) return r;
          remaining_ = padding_;
          state_ = remaining_ ? state::skip : state::header;
        }
        break;
      }
      case state::skip: {
        std::size_t take = std::min<std::uint64_t>(remaining_, input.size());
        remaining_ -= take;
        offset_ += take;
        input = input.subspan(take);
        if (remaining_ == 0) state_ = state::header;
        break;
      }
      case state::ended:
        offset_ += input.size();
        return {};
    }
  }
  return {};
}

result<void> tar_reader::finish() {
  switch (state_) {
    case state::ended:
      return {};
    case state::after_zero_block:
    case state::header:
      if (block_fill_ != 0)
        return fail(
            error_kind::invalid_argument,
            fmt::format("truncated tar: ends inside the header at byte {}", header_offset_));
      if (next_.any())
        return fail(error_kind::invalid_argument,
                    "truncated tar: ends after an extended header, before its entry");
      return {};
    case state::extension:
      return fail(
          error_kind::invalid_argument,
          fmt::format("truncated tar: ends inside the extended header at byte {}", header_offset_));
    case state::data:
      return fail(error_kind::invalid_argument,
                  fmt::format("truncated tar: ends inside the data of {} ({} bytes missing)",
                              entry_.path, remaining_));
    case state::skip:
      return fail(error_kind::invalid_argument,
                  fmt::format("truncated tar: ends inside the padding after byte {}", offset_));
  }
  return {};
}

result<void> tar_reader::on_header() {
  const std::byte* b = block_;
  bool zero = std::all_of(b, b + block_size, [](std::byte x) { return x == std::byte{0}; });
  if (zero) {
    if (next_.any()) return bad_header("end-of-archive block right after an extended header");
    state_ = state_ == state::after_zero_block ? state::ended : state::after_zero_block;
    return {};
  }
  if (state_ == state::after_zero_block)
    return bad_header("a header after a single zero block (a corrupt or concatenated archive)");

  // The checksum: the header's bytes summed with its own field as spaces.
  // Old writers summed signed chars; accept either, as every tar does.
  auto stored = numeric_field(b, 148, 8);
  std::int64_t unsigned_sum = 0, signed_sum = 0;
  for (std::size_t i = 0; i < block_size; ++i) {
    bool in_field = i >= 148 && i < 156;
    auto u = in_field ? 0x20 : std::to_integer<unsigned char>(b[i]);
    unsigned_sum += u;
    signed_sum += in_field ? 0x20 : static_cast<signed char>(u);
  }
  if (!stored || (*stored != unsigned_sum && *stored != signed_sum))
    return bad_header("checksum mismatch (not a tar archive, or a corrupt one)");

  std::string_view magic = text_field(b, 257, 6);
  std::string_view version(reinterpret_cast<const char*>(b + 263), 2);
  bool ustar = magic == "ustar" && version == "00";  // POSIX ustar and PAX
  bool gnu = magic == "ustar " && version == std::string_view(" \0", 2);
  bool has_devices = ustar || gnu;

  char type = static_cast<char>(b[156]);
  auto size_field = numeric_field(b, 124, 12);
  if (!size_field) return bad_header("invalid size field");
  auto size = static_cast<std::uint64_t>(*size_field);

  switch (type) {
    case 'x':
    case 'L':
    case 'K':
      if (size > max_extension_size)
        return bad_header(
            fmt::format("extended header of {} bytes (limit {})", size, max_extension_size));
      extension_type_ = type;
      extension_.clear();
      extension_.reserve(size);
      remaining_ = size;
      padding_ = padding_of(size);
      state_ = state::extension;
      if (size == 0) {
        if (auto r = on_extension(); !r) return r;
        state_ = state::header;
      }
      return {};
    case 'g':  // global PAX header: applies to nothing we keep
    case 'V':  // volume label
      remaining_ = size + padding_of(size);
      state_ = remaining_ ? state::skip : state::header;
      return {};
    case 'S':
      return bad_header("GNU sparse file: not supported in container layers");
    case 'M':
    case 'N':
      return bad_header(
          fmt::format("GNU entry type '{}' (multi-volume or old long names): "
                      "not supported",
                      type));
    default:
      break;
  }

  entry_ = tar_entry{};
  tar_entry& e = entry_;
  std::string_view name = text_field(b, 0, 100);
  std::string_view prefix = ustar ? text_field(b, 345, 155) : std::string_view{};
  if (next_.path) {
    e.path = std::move(*next_.path);
  } else if (!prefix.empty()) {
    e.path = fmt::format("{}/{}", prefix, name);
  } else {
    e.path = name;
  }
  e.link_target =
      next_.link_target ? std::move(*next_.link_target) : std::string(text_field(b, 157, 100));
  if (e.path.empty()) return bad_header("entry without a name");

  auto mode = numeric_field(b, 100, 8);
  auto uid = numeric_field(b, 108, 8);
  auto gid = numeric_field(b, 116, 8);
  auto mtime = numeric_field(b, 136, 12);
  if (!mode || !uid || !gid || !mtime)
    return bad_header(fmt::format("invalid mode, uid, gid or mtime field for {}", e.path));
  e.mode = static_cast<std::uint32_t>(*mode & 07777);
  std::uint64_t u = next_.uid.value_or(static_cast<std::uint64_t>(*uid));
  std::uint64_t g = next_.gid.value_or(static_cast<std::uint64_t>(*gid));
  if (*uid < 0 || *gid < 0 || u > max_id || g > max_id)
    return bad_header(fmt::format("uid {} or gid {} of {} out of range", u, g, e.path));
  e.uid = static_cast<std::uint32_t>(u);
  e.gid = static_cast<std::uint32_t>(g);
  if (next_.mtime) {
    e.mtime_sec = next_.mtime->first;
    e.mtime_nsec = next_.mtime->second;
  } else {
    e.mtime_sec = *mtime;
  }
  if (next_.size) size = *next_.size;
  e.xattrs = std::move(next_.xattrs);
  next_ = overrides{};

  tar_entry_type kind;
  switch (type) {
    case '\0':
      kind = e.path.ends_with('/') ? tar_entry_type::directory : tar_entry_type::regular;
      break;
    case '0':
    case '7':  // contiguous file: a regular file everywhere that matters
      kind = tar_entry_type::regular;
      break;
    case '1':
      kind = tar_entry_type::hard_link;
      break;
    case '2':
      kind = tar_entry_type::symlink;
      break;
    case '3':
      kind = tar_entry_type::char_device;
      break;
    case '4':
      kind = tar_entry_type::block_device;
      break;
    case '5':
    case 'D':  // GNU dumpdir: a directory whose data lists its names
      kind = tar_entry_type::directory;
      break;
    case '6':
      kind = tar_entry_type::fifo;
      break;
    default:
      return bad_header(fmt::format("unsupported entry type '{}' for {}", type, e.path));
  }
  if (kind == tar_entry_type::char_device || kind == tar_entry_type::block_device) {
    auto major = has_devices ? numeric_field(b, 329, 8) : std::optional<std::int64_t>(0);
    auto minor = has_devices ? numeric_field(b, 337, 8) : std::optional<std::int64_t>(0);
    if (!major || !minor || *major < 0 || *minor < 0 || *major > 0xFFFFFFFF || *minor > 0xFFFFFFFF)
      return bad_header(fmt::format("invalid device numbers for {}", e.path));
    e.dev_major = static_cast<std::uint32_t>(*major);
    e.dev_minor = static_cast<std::uint32_t>(*minor);
  }
  if ((kind == tar_entry_type::hard_link || kind == tar_entry_type::symlink) &&
      e.link_target.empty())
    return bad_header(fmt::format("{} {} without a target", to_string(kind), e.path));
  return start_entry(kind, size);
}

result<void> tar_reader::start_entry(tar_entry_type type, std::uint64_t size) {
  entry_.type = type;
  // Only regular files carry data; other types' size fields are ignored,
  // except that a GNU dumpdir's listing is skipped.
  std::uint64_t data = 0, skipped = 0;
  if (type == tar_entry_type::regular)
    data = size;
  else if (static_cast<char>(block_[156]) == 'D')
    skipped = size;
  if (data > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return bad_header(fmt::format("size {} of {} out of range", data, entry_.path));
  entry_.size = data;
  ++entries_;
  if (auto r = visitor_.on_entry(entry_); !r) return r;
  if (data == 0) {
    if (auto r = visitor_.on_entry_end(); !r) return r;
    remaining_ = skipped + padding_of(skipped);
    state_ = remaining_ ? state::skip : state::header;
    return {};
  }
  remaining_ = data;
  padding_ = padding_of(data);
  state_ = state::data;
  return {};
}

result<void> tar_reader::on_extension() {
  switch (extension_type_) {
    case 'L':
      if (auto name = until_nul(extension_); !name.empty()) next_.path = std::string(name);
      return {};
    case 'K':
      if (auto name = until_nul(extension_); !name.empty()) next_.link_target = std::string(name);
      return {};
    default:
      return parse_pax(extension_);
  }
}

// Records "<length> <key>=<value>\n", the length counting the whole record.
// As for the other keys, a later PAX header for the same entry wins: its
// xattrs replace the earlier header's set. Merged, a run of headers could
// pile up any amount.
result<void> tar_reader::parse_pax(std::string_view records) {
  auto bad = [&](std::string_view why) { return bad_header(fmt::format("PAX header: {}", why)); };
  // Where each name is in next_.xattrs: a repeated name replaces its value
  // in one lookup, not a scan of every xattr so far.
  std::unordered_map<std::string_view, std::size_t> xattr_at;
  std::uint64_t xattr_bytes = 0;
  while (!records.empty()) {
    if (records.find_first_not_of('\0') == std::string_view::npos) break;  // NUL padding
    auto space = records.find(' ');
    if (space == std::string_view::npos || space == 0) return bad("malformed record");
    auto length = decimal(records.substr(0, space));
    if (!length || *length <= space + 1 || *length > records.size())
      return bad("malformed record length");
    std::string_view record = records.substr(0, *length);
    records.remove_prefix(*length);
    if (record.back() != '\n') return bad("record does not end in a newline");
    std::string_view kv = record.substr(space + 1, record.size() - space - 2);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) return bad("record without key=value");
    std::string_view key = kv.substr(0, eq);
    std::string_view value = kv.substr(eq + 1);

    if (key == "path" || key == "linkpath") {
      if (value.find('\0') != std::string_view::npos)
        return bad(fmt::format("{} contains a NUL byte", key));
      if (value.empty()) continue;  // POSIX: an empty value cancels the override
      (key == "path" ? next_.path : next_.link_target) = std::string(value);
    } else if (key == "size" || key == "uid" || key == "gid") {
      if (value.empty()) continue;
      auto n = decimal(value);
      if (!n) return bad(fmt::format("invalid {} \"{}\"", key, value));
      (key == "size" ? next_.size : key == "uid" ? next_.uid : next_.gid) = *n;
    } else if (key == "mtime") {
      if (value.empty()) continue;
      auto t = pax_time(value);
      if (!t) return bad(fmt::format("invalid mtime \"{}\"", value));
      next_.mtime = *t;
    } else if (key.starts_with("SCHILY.xattr.")) {
      std::string_view name = key.substr(13);
      if (name.empty() || name.find('\0') != std::string_view::npos)
        return bad("invalid xattr name");
      if (xattr_at.empty()) next_.xattrs.clear();  // this header's first
      auto [at, fresh] = xattr_at.try_emplace(name, next_.xattrs.size());
      auto& slot = fresh ? next_.xattrs.emplace_back(std::string(name), std::string())
                         : next_.xattrs[at->second];
      xattr_bytes -= slot.second.size();  // a repeated name: its old value no longer counts
      xattr_bytes += (fresh ? name.size() : 0) + value.size();
      if (xattr_bytes > max_xattr_bytes)
        return bad(fmt::format("xattrs of over {} bytes", max_xattr_bytes));
      slot.second = std::string(value);
    } else if (key.starts_with("GNU.sparse.")) {
      return bad("GNU sparse file: not supported in container layers");
    }
    // Others (atime, ctime, uname, gname, comment, charset, LIBARCHIVE.*,
    // SCHILY.dev/ino/nlink) change nothing a layer keeps.
  }
  return {};
}

}  // namespace ringcri::image
