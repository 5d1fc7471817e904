// Layer decompression (image/unpack/decompressor): gzip through isa-l, zstd,
// and the sniffing front that picks one. Whole or in pieces, the same
// bytes come out and the same inputs are refused. Output is capped: a
// small input may stand for a large layer, which is no bug.

#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "image/unpack/decompressor.hpp"

using namespace ringcri;
using namespace ringcri::image;

namespace {

constexpr std::size_t max_output = 4u << 20;

struct outcome {
  std::string out;
  bool ok = true;
  bool capped = false;
};

outcome run(std::unique_ptr<decompressor> d, const std::vector<std::string_view>& pieces) {
  outcome o;
  auto sink = [&](std::span<const std::byte> bytes) -> result<void> {
    FUZZ_CHECK(!bytes.empty());
    if (o.out.size() + bytes.size() > max_output) {
      o.capped = true;
      return fail(error_kind::resource_exhausted, "output cap");
    }
    o.out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return {};
  };
  result<void> status;
  for (auto piece : pieces) {
    status = d->feed(
        fuzz::as_bytes(reinterpret_cast<const std::uint8_t*>(piece.data()), piece.size()), sink);
    if (!status) break;
  }
  if (status) status = d->finish(sink);
  o.ok = status.has_value();
  if (!status && !o.capped) FUZZ_CHECK(status.error().kind() == error_kind::invalid_argument);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = fuzz::as_text(data, size);
  outcome whole = run(make_sniffing_decompressor(), {input});
  outcome pieces = run(make_sniffing_decompressor(), fuzz::pieces_of(input));
  if (!whole.capped && !pieces.capped) {
    FUZZ_CHECK(whole.ok == pieces.ok);
    if (whole.ok) FUZZ_CHECK(whole.out == pieces.out);
  }
  // Each codec on bytes that may not be its own.
  run(make_decompressor(compression::gzip), {input});
  run(make_decompressor(compression::zstd), {input});
  // What the manifest's media type says, for any text.
  (void)compression_of_media_type(input);
  return 0;
}
