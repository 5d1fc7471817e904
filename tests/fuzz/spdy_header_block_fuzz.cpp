// SPDY header blocks (stream/spdy/header_compression): the input is the
// plain name/value block a peer compressed, deflated here with the SPDY
// dictionary as the peer would, so the block parser sees every shape of
// counts and lengths. A block that parses compresses and inflates back to
// itself.

#include <zlib.h>

#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "stream/spdy/header_compression.hpp"
#include "stream/spdy/header_dictionary.hpp"

using namespace ringcri;
using namespace ringcri::stream::spdy;

namespace {

// The input as a peer's deflate stream sends it: dictionary, sync flush.
std::string deflated(std::string_view plain) {
  z_stream z{};
  FUZZ_CHECK(deflateInit(&z, Z_DEFAULT_COMPRESSION) == Z_OK);
  const auto dictionary = header_dictionary();
  FUZZ_CHECK(deflateSetDictionary(&z, dictionary.data(), static_cast<uInt>(dictionary.size())) ==
             Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(plain.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  FUZZ_CHECK(deflate(&z, Z_SYNC_FLUSH) == Z_OK);
  FUZZ_CHECK(z.avail_in == 0);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  header_inflater inflater;
  auto block = inflater.decompress(deflated(fuzz::as_text(data, size)), 1u << 20);
  if (!block) {
    FUZZ_CHECK(block.error().kind() == error_kind::invalid_argument);
    return 0;
  }
  for (const auto& [name, value] : *block)
    for (char c : name) FUZZ_CHECK(c < 'A' || c > 'Z');

  header_deflater deflater;
  std::string wire;
  deflater.compress(*block, wire);
  header_inflater fresh;
  auto again = fresh.decompress(wire, 1u << 20);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*again == *block);
  return 0;
}
