// The daemon's TOML config (config/config): any text is a config or an
// INVALID_ARGUMENT naming the file; nothing throws. Read with provenance
// (key_lines, for `ringcri config`) it is the same config or the same
// error with a line; written back (to_toml) it reads back to the same
// values, but for the secrets to_toml never writes.

#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "config/to_toml.hpp"
#include "fuzz_check.hpp"

using namespace ringcri;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string origin = "/etc/ringcri/ringcri.toml";
  auto c = config::parse(fuzz::as_text(data, size), origin);
  config::key_lines lines;
  auto located = config::parse(fuzz::as_text(data, size), origin, {}, lines);
  FUZZ_CHECK(static_cast<bool>(located) == static_cast<bool>(c));
  if (!c) {
    FUZZ_CHECK(c.error().kind() == error_kind::invalid_argument);
    FUZZ_CHECK(located.error().kind() == error_kind::invalid_argument);
    FUZZ_CHECK(located.error().message().starts_with(origin));
    return 0;
  }
  (void)config::validate(*c);
  (void)c->socket_path();

  // What to_toml writes of it, and only that: no secret, the socket as
  // the path it resolves to.
  config::config shown = *c;
  shown.socket = c->socket_path();
  for (auto& [host, auth] : shown.registry.auths) auth = {auth.username, "", "", ""};
  const std::string text = config::to_toml(*c, {});
  auto back = config::parse(text, "printed.toml");
  FUZZ_CHECK(back);
  FUZZ_CHECK(config::to_toml(*back, {}) == config::to_toml(shown, {}));
  return 0;
}
