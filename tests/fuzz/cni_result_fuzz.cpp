// A CNI plugin's result (net/cni/result_json): what a plugin prints is
// outside bytes. The pod's IPs come out well formed, IPv4 first.

#include <arpa/inet.h>

#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "net/cni/result_json.hpp"

using namespace ringcri;
using namespace ringcri::net::cni;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto ips = parse_pod_ips(fuzz::as_text(data, size), "/var/run/netns/cni-1234");
  if (!ips) return 0;
  bool seen_v6 = false;
  for (const auto& ip : *ips) {
    unsigned char buf[16];
    FUZZ_CHECK(ip.family == 4 || ip.family == 6);
    FUZZ_CHECK(inet_pton(ip.family == 4 ? AF_INET : AF_INET6, ip.address.c_str(), buf) == 1);
    FUZZ_CHECK(ip.prefix_length >= 0 && ip.prefix_length <= (ip.family == 4 ? 32 : 128));
    FUZZ_CHECK(!(seen_v6 && ip.family == 4));
    seen_v6 = seen_v6 || ip.family == 6;
  }
  return 0;
}
