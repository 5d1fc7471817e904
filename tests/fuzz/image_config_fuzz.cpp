// The image configuration blob (image/registry/image_config): what parses
// has sha256 diff ids and sorted volumes.

#include <algorithm>
#include <cstdint>

#include "fuzz_check.hpp"
#include "image/registry/content_digest.hpp"
#include "image/registry/image_config.hpp"

using namespace ringcri;
using namespace ringcri::image;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto config = parse_image_config(fuzz::as_text(data, size));
  if (!config) {
    FUZZ_CHECK(config.error().kind() == error_kind::invalid_argument);
    return 0;
  }
  for (const auto& id : config->diff_ids) FUZZ_CHECK(registry_detail::is_sha256_digest(id));
  FUZZ_CHECK(std::is_sorted(config->volumes.begin(), config->volumes.end()));
  return 0;
}
