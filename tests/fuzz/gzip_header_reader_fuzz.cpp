// The RFC 1952 member header (image/unpack/gzip_header_reader): it takes no
// more than it is given, and reads the same header whole or in pieces.

#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "image/unpack/gzip_header_reader.hpp"

using namespace ringcri;
using namespace ringcri::image;

namespace {

struct outcome {
  bool done = false;
  std::size_t taken = 0;
  std::string error;
};

outcome read(const std::vector<std::string_view>& pieces) {
  gzip_header_reader reader;
  outcome out;
  for (auto piece : pieces) {
    auto bytes = fuzz::as_bytes(reinterpret_cast<const std::uint8_t*>(piece.data()), piece.size());
    auto n = reader.read(bytes);
    if (!n) {
      FUZZ_CHECK(n.error().kind() == error_kind::invalid_argument);
      out.error = n.error().message();
      break;
    }
    FUZZ_CHECK(*n <= piece.size());
    out.taken += *n;
    // It stops only at the header's end.
    FUZZ_CHECK(*n == piece.size() || reader.done());
    if (reader.done()) break;
  }
  out.done = reader.done();
  if (out.done) FUZZ_CHECK(out.taken >= 10);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = fuzz::as_text(data, size);
  outcome whole = read({input});
  outcome pieces = read(fuzz::pieces_of(input));
  FUZZ_CHECK(whole.error == pieces.error);
  FUZZ_CHECK(whole.done == pieces.done);
  if (whole.error.empty()) FUZZ_CHECK(whole.taken == pieces.taken);
  return 0;
}
