#pragma once
// The bytes of the record journal (record_journal.hpp), and reading them
// back. Little-endian throughout.
//
//   header, the first 4096 bytes:
//     "ringcri-journal1"          16 bytes
//     generation                  u64
//     crc32 of the 24 bytes above u32, then zeros
//   batches, back to back from offset 4096:
//     magic "RCJB"                u32 (0x424a4352)
//     payload length              u32
//     generation                  u64  (the header's, else the batch is stale)
//     entry count                 u32
//     crc32 of generation, count and payload   u32
//     payload: entries, back to back:
//       op (1 put, 2 remove)      u8
//       kind length               u8
//       id length                 u16
//       bytes length              u32  (0 for a remove)
//       kind, id, bytes
//
// A batch is what one fdatasync made durable: it is read whole or not at
// all. Reading stops at the first batch that is not whole and of this
// generation: a torn tail, the zeros of a fresh file, or the batches of a
// generation that a checkpoint already applied.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringcri::cri::store {

inline constexpr std::size_t journal_header_size = 4096;
inline constexpr std::size_t journal_batch_header_size = 24;
inline constexpr std::size_t journal_entry_header_size = 8;

enum class journal_op : std::uint8_t { put = 1, remove = 2 };

struct journal_entry {
  journal_op op = journal_op::put;
  std::string kind;
  std::string id;
  std::string bytes;  // empty for a remove

  bool operator==(const journal_entry&) const = default;
};

// The 4096 bytes of a header of `generation`.
std::string encode_journal_header(std::uint64_t generation);

// The generation of a header, or nullopt when `bytes` is not a whole one.
std::optional<std::uint64_t> decode_journal_header(std::string_view bytes);

// Adds one entry to a batch's payload. Kinds are at most 255 bytes and ids
// at most 65535 (the store allows 255), bytes less than 4 GiB.
void append_journal_entry(std::string& payload, journal_op op, std::string_view kind,
                          std::string_view id, std::string_view bytes);

// A batch: its header, then `payload` (holding `count` entries).
std::string encode_journal_batch(std::uint64_t generation, std::uint32_t count,
                                 std::string_view payload);

struct journal_contents {
  std::uint64_t generation = 0;
  std::vector<journal_entry> entries;  // in the order they were written
  std::size_t end = journal_header_size;  // offset just past the last whole batch
};

// Reads a whole journal file: nullopt if its header is not whole (a file
// that is not a journal), else the entries of its whole batches.
std::optional<journal_contents> decode_journal(std::string_view file);

}  // namespace ringcri::cri::store
