#pragma once
// A streaming tar parser: the archive arrives in pieces of any size (one
// byte is fine) and comes out as entries and their data, never holding
// more than one 512-byte header (plus one PAX or GNU long-name record,
// capped at 1 MiB) in memory. File data passes through without a copy.
//
// Formats: ustar (with prefix), GNU (long names 'L' and links 'K',
// base-256 numbers), PAX extended headers ('x': path, linkpath, size, uid,
// gid, mtime with fractions, SCHILY.xattr.* up to 1 MiB an entry; when
// several precede one entry, the last to name a key wins, and its xattrs
// replace an earlier header's); global headers ('g') and unknown PAX keys
// are ignored. Sparse files and multi-volume archives are refused (no
// container layer writer makes them). As Go's archive/tar (which wrote
// most layers) does: links, directories, devices and fifos carry no data
// whatever their size field says, a '0' entry whose name ends in '/' is a
// directory, and the archive may end at an entry boundary without the two
// zero blocks; bytes after the zero blocks are ignored.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace ringcri::image {

enum class tar_entry_type {
  regular,
  hard_link,
  symlink,
  char_device,
  block_device,
  directory,
  fifo
};

std::string_view to_string(tar_entry_type type);

struct tar_entry {
  tar_entry_type type = tar_entry_type::regular;
  std::string path;         // as the archive names it (PAX/GNU long name applied), not cleaned
  std::string link_target;  // a symlink's target, or the member a hard link names
  std::uint32_t mode = 0;   // permission bits with setuid/setgid/sticky (07777)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime_sec = 0;
  std::uint32_t mtime_nsec = 0;
  std::uint32_t dev_major = 0;
  std::uint32_t dev_minor = 0;
  std::uint64_t size = 0;  // data bytes that follow: regular files only, else 0
  std::vector<std::pair<std::string, std::string>> xattrs;  // SCHILY.xattr.*, archive order
};

// What the reader calls, in order, for each entry: on_entry, on_data for
// each piece of its data (none for an empty file), on_entry_end. An error
// returned stops the reader and comes back out of feed().
class tar_visitor {
 public:
  virtual ~tar_visitor() = default;
  virtual result<void> on_entry(const tar_entry& entry) = 0;
  virtual result<void> on_data(std::span<const std::byte> piece) = 0;
  virtual result<void> on_entry_end() = 0;
};

class tar_reader {
 public:
  explicit tar_reader(tar_visitor& visitor) : visitor_(visitor) {}

  // Parses `input` in full. INVALID_ARGUMENT for a malformed archive,
  // naming the byte offset ("tar header at byte 1536: checksum mismatch").
  result<void> feed(std::span<const std::byte> input);
  // The archive has ended: INVALID_ARGUMENT if it ended inside a header or
  // an entry's data.
  result<void> finish();

  std::uint64_t entries() const { return entries_; }     // entries handed to the visitor
  std::uint64_t offset() const { return offset_; }       // archive bytes parsed
  bool ended() const { return state_ == state::ended; }  // saw the end-of-archive blocks

 private:
  enum class state { header, after_zero_block, extension, data, skip, ended };

  result<void> on_header();
  result<void> on_extension();
  result<void> parse_pax(std::string_view records);
  result<void> start_entry(tar_entry_type type, std::uint64_t size);
  tl::unexpected<error> bad_header(std::string_view why) const;

  tar_visitor& visitor_;
  state state_ = state::header;
  std::byte block_[512];
  std::size_t block_fill_ = 0;
  std::uint64_t header_offset_ = 0;  // where the current header started
  std::uint64_t offset_ = 0;
  std::uint64_t remaining_ = 0;  // bytes left of data / extension / skip
  std::uint64_t padding_ = 0;    // zero bytes after the data to the next block
  std::uint64_t entries_ = 0;

  char extension_type_ = 0;  // 'x', 'L' or 'K' while reading one
  std::string extension_;

  // What extension headers said about the next entry.
  struct overrides {
    std::optional<std::string> path, link_target;
    std::optional<std::uint64_t> size, uid, gid;
    std::optional<std::pair<std::int64_t, std::uint32_t>> mtime;
    std::vector<std::pair<std::string, std::string>> xattrs;
    bool any() const {
      return path || link_target || size || uid || gid || mtime || !xattrs.empty();
    }
  } next_;

  tar_entry entry_;
};

}  // namespace ringcri::image
