#pragma once
// The part of the EROFS on-disk format that erofs_writer writes: the
// superblock, 64-byte (extended) inodes, inline xattrs and directory
// entries. All of it is little-endian; these structs are the bytes as they
// lie on disk, copied out as they are (hence the endian check).
//
// Facts from the Linux kernel's fs/erofs/erofs_fs.h, which defines the
// format; the kernel reads what it names here and nothing more when no
// feature bit is set.

#include <bit>
#include <cstdint>

namespace ringcri::image::erofs {

static_assert(std::endian::native == std::endian::little,
              "EROFS structures are written as they lie in memory");

inline constexpr std::uint32_t super_magic = 0xE0F5E1E2;
inline constexpr std::uint64_t super_offset = 1024;  // within block 0
inline constexpr unsigned block_bits = 12;
inline constexpr std::uint64_t block_size = std::uint64_t{1} << block_bits;
// A nid is an inode's byte offset in the metadata area in 32-byte slots.
inline constexpr unsigned slot_bits = 5;
inline constexpr std::uint64_t slot_size = std::uint64_t{1} << slot_bits;
inline constexpr unsigned name_max = 255;  // a directory entry's name, in bytes

// At byte 1024 of block 0. Without feature bits (no compression, no
// checksum, no shared xattrs): the fields a plain image needs.
struct super_block {
  std::uint32_t magic;
  std::uint32_t checksum;  // crc32c, only with the SB_CHKSUM compat feature
  std::uint32_t feature_compat;
  std::uint8_t blkszbits;
  std::uint8_t sb_extslots;
  std::uint16_t root_nid;
  std::uint64_t inos;           // inodes in the image
  std::uint64_t epoch;          // build time: compact inodes' times count from it
  std::uint32_t epoch_nsec;     // (extended inodes carry their own)
  std::uint32_t blocks;         // blocks in the image
  std::uint32_t meta_blkaddr;   // first block of the metadata area: nid 0
  std::uint32_t xattr_blkaddr;  // shared xattrs (none here)
  std::uint8_t uuid[16];
  std::uint8_t volume_name[16];
  std::uint32_t feature_incompat;
  std::uint16_t available_compr_algs;
  std::uint16_t extra_devices;
  std::uint16_t devt_slotoff;
  std::uint8_t dirblkbits;  // 0: directory blocks are file system blocks
  std::uint8_t xattr_prefix_count;
  std::uint32_t xattr_prefix_start;
  std::uint64_t packed_nid;
  std::uint8_t xattr_filter_reserved;
  std::uint8_t reserved[23];
};
static_assert(sizeof(super_block) == 128);

// i_format: bit 0 the inode version, bits 1-3 the data layout.
inline constexpr std::uint16_t inode_extended = 1;
enum class data_layout : std::uint16_t {
  flat_plain = 0,   // i_size bytes in whole blocks from raw_blkaddr
  flat_inline = 2,  // whole blocks from raw_blkaddr, the tail right after
                    // the inode and its xattrs, in the same block
};
inline constexpr std::uint16_t format_of(data_layout layout) {
  return static_cast<std::uint16_t>(inode_extended | (static_cast<std::uint16_t>(layout) << 1));
}

// The 64-byte inode: 32-bit owners and link count, 64-bit size, its own
// mtime with nanoseconds.
struct inode_extended_disk {
  std::uint16_t i_format;
  std::uint16_t i_xattr_icount;  // 0, or 1 + (inline xattr bytes after the header) / 4
  std::uint16_t i_mode;
  std::uint16_t i_reserved;
  std::uint64_t i_size;
  std::uint32_t i_u;    // raw_blkaddr for files, directories and symlinks; rdev for devices
  std::uint32_t i_ino;  // only for 32-bit stat; the kernel's inode number is the nid
  std::uint32_t i_uid;
  std::uint32_t i_gid;
  std::uint64_t i_mtime;
  std::uint32_t i_mtime_nsec;
  std::uint32_t i_nlink;
  std::uint8_t i_reserved2[16];
};
static_assert(sizeof(inode_extended_disk) == 64);

// Right after the inode when i_xattr_icount != 0, then the entries, each
// padded to 4 bytes.
struct xattr_ibody_header {
  std::uint32_t h_name_filter;  // only with the XATTR_FILTER compat feature
  std::uint8_t h_shared_count;
  std::uint8_t h_reserved2[7];
};
static_assert(sizeof(xattr_ibody_header) == 12);

// Followed by the name without its prefix, then the value.
struct xattr_entry {
  std::uint8_t e_name_len;
  std::uint8_t e_name_index;
  std::uint16_t e_value_size;
};
static_assert(sizeof(xattr_entry) == 4);

// Name prefixes an xattr entry names by index.
inline constexpr std::uint8_t xattr_index_user = 1;
inline constexpr std::uint8_t xattr_index_posix_acl_access = 2;   // the whole name, no suffix
inline constexpr std::uint8_t xattr_index_posix_acl_default = 3;  // the whole name, no suffix
inline constexpr std::uint8_t xattr_index_trusted = 4;
inline constexpr std::uint8_t xattr_index_security = 6;
inline constexpr std::uint32_t xattr_icount_max = 0xffff;

// A directory block: the dirents first (the first one's nameoff says how
// many), then their names, neither NUL-terminated nor padded; the last
// name runs to a NUL or to the end of the block (or of the directory).
// Sorted by name (bytes, unsigned) within and across blocks, "." and ".."
// included: lookups search them by halves.
struct [[gnu::packed]] dirent {
  std::uint64_t nid;
  std::uint16_t nameoff;  // from the start of the block
  std::uint8_t file_type;
  std::uint8_t reserved;
};
static_assert(sizeof(dirent) == 12);

// file_type: the kernel's FT_* numbers.
enum class file_type : std::uint8_t {
  unknown = 0,
  regular = 1,
  directory = 2,
  char_device = 3,
  block_device = 4,
  fifo = 5,
  socket = 6,
  symlink = 7
};

// A device number as the kernel's new_encode_dev packs it: 12 bits of
// major, 20 of minor.
inline constexpr std::uint32_t encode_dev(std::uint32_t major, std::uint32_t minor) {
  return (minor & 0xff) | (major << 8) | ((minor & ~std::uint32_t{0xff}) << 12);
}
inline constexpr std::uint32_t dev_major_max = 0xfff;
inline constexpr std::uint32_t dev_minor_max = 0xfffff;

}  // namespace ringcri::image::erofs
