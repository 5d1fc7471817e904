// The record journal's file (cri/store/journal_format), as a crash or a
// bad disk may leave it. The input is read twice: as a whole file, and as
// the payload of one batch framed with a valid header and checksum (so
// that the entry parser is reached, which a checksum would hide from
// random bytes otherwise). Nothing is read past the input, what is read
// encodes back to the same bytes, and the end is on a batch boundary.

#include <cstdint>
#include <string>

#include "cri/store/journal_format.hpp"
#include "fuzz_check.hpp"

using namespace ringcri::cri::store;

namespace {

std::string encoded_payload(const std::vector<journal_entry>& entries) {
  std::string payload;
  for (const auto& e : entries) append_journal_entry(payload, e.op, e.kind, e.id, e.bytes);
  return payload;
}

void check(const std::string& file) {
  auto contents = decode_journal(file);
  if (!contents) return;
  FUZZ_CHECK(contents->end >= journal_header_size);
  FUZZ_CHECK(contents->end <= file.size());
  // Written again, the entries read back the same.
  std::string again = encode_journal_header(contents->generation);
  if (!contents->entries.empty()) {
    again += encode_journal_batch(contents->generation,
                                  static_cast<std::uint32_t>(contents->entries.size()),
                                  encoded_payload(contents->entries));
  }
  auto reread = decode_journal(again);
  FUZZ_CHECK(reread.has_value());
  FUZZ_CHECK(reread->entries == contents->entries);
  FUZZ_CHECK(reread->end == again.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  check(input);

  // The input as one batch's payload; the count from its first byte.
  std::uint32_t count = size > 0 ? static_cast<unsigned char>(input[0]) % 8 : 0;
  std::string payload = size > 0 ? input.substr(1) : std::string();
  std::string file = encode_journal_header(7) + encode_journal_batch(7, count, payload);
  check(file);
  auto contents = decode_journal(file);
  FUZZ_CHECK(contents.has_value());
  if (!contents->entries.empty()) {
    FUZZ_CHECK(contents->end == file.size());
    FUZZ_CHECK(encoded_payload(contents->entries) == payload);
  }
  // A stale generation reads as nothing.
  auto stale = decode_journal(encode_journal_header(8) + encode_journal_batch(7, count, payload));
  FUZZ_CHECK(stale.has_value() && stale->entries.empty());
  return 0;
}
