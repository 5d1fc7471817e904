#include "cri/store/journal_format.hpp"

#include <zlib.h>

#include <cassert>

namespace ringcri::cri::store {

namespace {

constexpr std::string_view header_magic = "ringcri-journal1";
constexpr std::uint32_t batch_magic = 0x424a4352;  // "RCJB" read little-endian

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

std::uint32_t crc_of(std::uint32_t crc, std::string_view bytes) {
  // zlib's crc32 takes a uInt length: feed it in pieces.
  while (!bytes.empty()) {
    auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size(), 1u << 30));
    crc = static_cast<std::uint32_t>(
        ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), n));
    bytes.remove_prefix(n);
  }
  return crc;
}

// The entries of a payload, or nullopt when it is not exactly `count`
// whole entries.
std::optional<std::vector<journal_entry>> decode_payload(std::string_view payload,
                                                         std::uint32_t count) {
  std::vector<journal_entry> out;
  std::size_t at = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (payload.size() - at < journal_entry_header_size) return std::nullopt;
    auto op = static_cast<std::uint8_t>(get_le(payload, at, 1));
    auto kind_len = get_le(payload, at + 1, 1);
    auto id_len = get_le(payload, at + 2, 2);
    auto bytes_len = get_le(payload, at + 4, 4);
    at += journal_entry_header_size;
    if (op != static_cast<std::uint8_t>(journal_op::put) &&
        op != static_cast<std::uint8_t>(journal_op::remove))
      return std::nullopt;
    if (payload.size() - at < kind_len + id_len + bytes_len) return std::nullopt;
    journal_entry e;
    e.op = static_cast<journal_op>(op);
    e.kind = payload.substr(at, kind_len);
    e.id = payload.substr(at + kind_len, id_len);
    e.bytes = payload.substr(at + kind_len + id_len, bytes_len);
    at += kind_len + id_len + bytes_len;
    out.push_back(std::move(e));
  }
  if (at != payload.size()) return std::nullopt;
  return out;
}

}  // namespace

std::string encode_journal_header(std::uint64_t generation) {
  std::string out(header_magic);
  put_le(out, generation, 8);
  put_le(out, crc_of(0, out), 4);
  out.resize(journal_header_size, '\0');
  return out;
}

std::optional<std::uint64_t> decode_journal_header(std::string_view bytes) {
  if (bytes.size() < header_magic.size() + 12) return std::nullopt;
  if (bytes.substr(0, header_magic.size()) != header_magic) return std::nullopt;
  auto covered = bytes.substr(0, header_magic.size() + 8);
  if (get_le(bytes, covered.size(), 4) != crc_of(0, covered)) return std::nullopt;
  return get_le(bytes, header_magic.size(), 8);
}

void append_journal_entry(std::string& payload, journal_op op, std::string_view kind,
                          std::string_view id, std::string_view bytes) {
  assert(kind.size() <= 0xff && id.size() <= 0xffff && bytes.size() <= 0xffffffffu);
  put_le(payload, static_cast<std::uint8_t>(op), 1);
  put_le(payload, kind.size(), 1);
  put_le(payload, id.size(), 2);
  put_le(payload, bytes.size(), 4);
  payload.append(kind);
  payload.append(id);
  payload.append(bytes);
}

std::string encode_journal_batch(std::uint64_t generation, std::uint32_t count,
                                 std::string_view payload) {
  std::string covered;
  put_le(covered, generation, 8);
  put_le(covered, count, 4);
  std::string out;
  out.reserve(journal_batch_header_size + payload.size());
  put_le(out, batch_magic, 4);
  put_le(out, payload.size(), 4);
  out.append(covered);
  put_le(out, crc_of(crc_of(0, covered), payload), 4);
  out.append(payload);
  return out;
}

std::optional<journal_contents> decode_journal(std::string_view file) {
  if (file.size() < journal_header_size) return std::nullopt;
  auto generation = decode_journal_header(file.substr(0, journal_header_size));
  if (!generation) return std::nullopt;
  journal_contents out;
  out.generation = *generation;
  std::size_t at = journal_header_size;
  while (file.size() - at >= journal_batch_header_size) {
    if (get_le(file, at, 4) != batch_magic) break;
    auto length = get_le(file, at + 4, 4);
    auto covered = file.substr(at + 8, 12);
    if (get_le(covered, 0, 8) != *generation) break;
    auto count = static_cast<std::uint32_t>(get_le(covered, 8, 4));
    auto crc = get_le(file, at + 20, 4);
    if (file.size() - at - journal_batch_header_size < length) break;
    auto payload = file.substr(at + journal_batch_header_size, length);
    if (crc != crc_of(crc_of(0, covered), payload)) break;
    auto entries = decode_payload(payload, count);
    if (!entries) break;
    for (auto& e : *entries) out.entries.push_back(std::move(e));
    at += journal_batch_header_size + length;
    out.end = at;
  }
  return out;
}

}  // namespace ringcri::cri::store
