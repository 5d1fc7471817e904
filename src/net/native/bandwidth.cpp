#include "net/native/bandwidth.hpp"

#include "net/native/json_member.hpp"

namespace ringcri::net::native {

namespace {

using nlohmann::json;

constexpr const char* rate_keys[] = {"ingressRate", "ingressBurst", "egressRate", "egressBurst"};

// The plugin's BandwidthEntry read from `object`: whether any key is
// there, and whether every one there is zero. A value Go's decoder would
// refuse (not an unsigned integer) counts as non-zero: the plugin gives
// the error.
struct entry {
  bool present = false;
  bool zero = true;
};

entry read_entry(const json& object) {
  entry e;
  for (const char* key : rate_keys) {
    const json* v = member(object, key);
    if (!v || v->is_null()) continue;
    e.present = true;
    if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<long long>() == 0)) {
      e.zero = false;
      continue;
    }
    if (v->get<unsigned long long>() != 0) e.zero = false;
  }
  return e;
}

}  // namespace

std::string bandwidth_exec_reason(const json& plugin) {
  // The config's own entry wins; runtimeConfig.bandwidth when it has none.
  entry own = read_entry(plugin);
  if (own.present) return own.zero ? "" : "a bandwidth limit";
  const json* rc = member(plugin, "runtimeConfig");
  const json* bw = rc ? member(*rc, "bandwidth") : nullptr;
  if (!bw || bw->is_null()) return "";
  if (!bw->is_object()) return "malformed \"runtimeConfig.bandwidth\"";
  return read_entry(*bw).zero ? "" : "a bandwidth limit";
}

}  // namespace ringcri::net::native
