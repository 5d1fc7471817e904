// flanneld's /run/flannel/subnet.env (net/native/flannel_config) and the
// delegate config rendered from it: a file another program writes. The
// subnets come out as networks, and the saved form reads back as the
// rendered config.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_check.hpp"
#include "net/native/flannel_config.hpp"

using namespace ringcri;
using namespace ringcri::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto env = native::parse_subnet_env(fuzz::as_text(data, size), "subnet.env");
  if (!env) return 0;
  FUZZ_CHECK(env->subnet || env->ipv6_subnet);
  FUZZ_CHECK(!env->networks.empty() || !env->ipv6_networks.empty());
  for (const auto& sn : {env->subnet, env->ipv6_subnet})
    if (sn) FUZZ_CHECK(sn->addr == sn->network());
  native::flannel_config config;
  config.name = "cbr0";
  config.cni_version = "1.0.0";
  auto delegate = native::render_delegate(config, *env);
  FUZZ_CHECK(delegate.has_value());
  auto back = nlohmann::json::parse(native::saved_form(*delegate), nullptr, false);
  FUZZ_CHECK(back == *delegate);
  FUZZ_CHECK(!back["ipam"]["ranges"].empty());
  return 0;
}
