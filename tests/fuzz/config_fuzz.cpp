// The daemon's TOML config (config/config): any text is a config or an
// INVALID_ARGUMENT naming the file; nothing throws.

#include <cstdint>

#include "config/config.hpp"
#include "fuzz_check.hpp"

using namespace ringcri;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto c = config::parse(fuzz::as_text(data, size), "/etc/ringcri/ringcri.toml");
  if (!c) {
    FUZZ_CHECK(c.error().kind() == error_kind::invalid_argument);
    return 0;
  }
  (void)config::validate(*c);
  (void)c->socket_path();
  return 0;
}
