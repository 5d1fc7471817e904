// The SPDY/3.1 frame decoder and its header inflate stream
// (stream/spdy/decoder): one side of a connection as the peer sent it.
// Whole or in pieces, the same frames come out and the same error stops
// them; an error repeats; and the frames, encoded again in order, decode
// to themselves.

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "stream/spdy/decoder.hpp"
#include "stream/spdy/encoder.hpp"

using namespace ringcri;
using namespace ringcri::stream::spdy;

namespace {

struct outcome {
  std::vector<frame> frames;
  std::string error;
};

// Frames until the decoder wants more bytes or fails.
bool drain(decoder& d, outcome& o) {
  for (;;) {
    auto next = d.next();
    if (!next) {
      o.error = next.error().message();
      FUZZ_CHECK(next.error().kind() == error_kind::invalid_argument);
      auto again = d.next();  // the connection stays failed
      FUZZ_CHECK(!again && again.error().message() == o.error);
      return false;
    }
    if (!*next) return true;
    o.frames.push_back(std::move(**next));
  }
}

outcome decode(const std::vector<std::string_view>& pieces) {
  decoder d;
  outcome o;
  for (auto piece : pieces) {
    d.feed(piece);
    if (!drain(d, o)) break;
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = fuzz::as_text(data, size);
  outcome whole = decode({input});
  outcome pieces = decode(fuzz::pieces_of(input));
  FUZZ_CHECK(whole.error == pieces.error);
  FUZZ_CHECK(whole.frames == pieces.frames);

  encoder e;
  std::string wire;
  for (const auto& f : whole.frames) e.encode(f, wire);
  outcome again = decode({wire});
  FUZZ_CHECK(again.error.empty());
  FUZZ_CHECK(again.frames == whole.frames);
  return 0;
}
