// A registry's hosts.toml (image/source/registry_hosts): mirrors, TLS
// files and headers from a file a node admin (or a config management
// tool) wrote. Endpoints come out with a scheme and a host; nothing
// throws.

#include <cstdint>

#include "fuzz_check.hpp"
#include "image/source/registry_hosts.hpp"

using namespace ringcri;
using namespace ringcri::image;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::as_text(data, size);
  for (const char* registry : {"registry.example.com", "docker.io", "127.0.0.1:5000"}) {
    auto endpoints =
        parse_hosts_toml(text, "/etc/ringcri/certs.d/registry.example.com/hosts.toml", registry);
    if (!endpoints) {
      FUZZ_CHECK(endpoints.error().kind() == error_kind::invalid_argument);
      continue;
    }
    for (const auto& e : *endpoints) {
      FUZZ_CHECK(e.scheme == "http" || e.scheme == "https");
      FUZZ_CHECK(!e.host.empty());
      (void)e.base_url();
    }
  }
  return 0;
}
