// Image references (image/source/reference): a reference that parses
// prints, in its normalised form, as one that parses back to itself.

#include <cstdint>

#include "fuzz_check.hpp"
#include "image/source/reference.hpp"

using namespace ringcri;
using namespace ringcri::image;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto ref = parse_reference(fuzz::as_text(data, size));
  if (!ref) {
    FUZZ_CHECK(ref.error().kind() == error_kind::invalid_argument);
    return 0;
  }
  FUZZ_CHECK(!ref->registry.empty());
  FUZZ_CHECK(!ref->repository.empty());
  FUZZ_CHECK(!ref->tag.empty() || !ref->digest.empty());
  FUZZ_CHECK(!ref->api_host().empty());
  (void)ref->is_loopback();

  auto again = parse_reference(ref->string());
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*again == *ref);
  auto name = parse_reference(ref->name());
  FUZZ_CHECK(name.has_value());
  FUZZ_CHECK(name->registry == ref->registry);
  FUZZ_CHECK(name->repository == ref->repository);
  return 0;
}
