#include "net/native/bridge_config.hpp"

#include "net/native/json_member.hpp"


namespace ringcri::net::native {

namespace {

using nlohmann::json;

bridge_choice exec_because(std::string reason) { return {std::nullopt, std::move(reason)}; }

}  // namespace

bridge_choice choose_bridge(const json& plugin) {
  bridge_config c;
  // A value of the wrong type is the plugin's error to give, in its words.
  auto read_bool = [&](const char* key, bool& out) {
    const json* v = member(plugin, key);
    if (!v || v->is_null()) return true;
    if (!v->is_boolean()) return false;
    out = v->get<bool>();
    return true;
  };
  for (auto [key, field] :
       {std::pair{"isGateway", &c.is_gateway}, std::pair{"isDefaultGateway", &c.is_default_gateway},
        std::pair{"forceAddress", &c.force_address}, std::pair{"ipMasq", &c.ip_masq},
        std::pair{"hairpinMode", &c.hairpin_mode}, std::pair{"promiscMode", &c.promisc_mode}})
    if (!read_bool(key, *field)) return exec_because(std::string("malformed \"") + key + "\"");
  if (const json* v = member(plugin, "bridge"); v && !v->is_null()) {
    if (!v->is_string()) return exec_because("malformed \"bridge\"");
    if (!v->get<std::string>().empty()) c.bridge = v->get<std::string>();
  }
  if (const json* v = member(plugin, "mtu"); v && !v->is_null()) {
    if (!v->is_number_integer() || v->get<long>() < 0 || v->get<long>() > 65535)
      return exec_because("malformed \"mtu\"");
    c.mtu = static_cast<unsigned>(v->get<long>());
  }
  if (const json* v = member(plugin, "vlan"); v && !(v->is_number_integer() && v->get<long>() == 0))
    return exec_because("a VLAN");
  bool spoof_check = false;
  if (!read_bool("macspoofchk", spoof_check) || spoof_check)
    return exec_because("MAC spoof checking");
  bool dad = false;
  if (!read_bool("enabledad", dad) || dad) return exec_because("duplicate address detection");
  if (const json* rc = member(plugin, "runtimeConfig"); rc && member(*rc, "mac"))
    return exec_because("a fixed MAC address");
  if (const json* args = member(plugin, "args"); args && !args->is_null())
    return exec_because("\"args\"");
  if (c.is_default_gateway) c.is_gateway = true;
  if (c.hairpin_mode && c.promisc_mode) return exec_because("hairpinMode with promiscMode");

  const json* ipam = member(plugin, "ipam");
  const json* type = ipam ? member(*ipam, "type") : nullptr;
  if (!type || !type->is_string() || type->get<std::string>() != "host-local")
    return exec_because("an IPAM other than host-local");
  auto parsed = ipam::parse_ipam_config(plugin);
  if (!parsed) return exec_because("an IPAM config host-local would refuse");
  c.ipam = std::move(*parsed);
  if (const json* routes = member(*ipam, "routes"); routes && !routes->is_null()) {
    if (!routes->is_array()) return exec_because("malformed \"ipam.routes\"");
    for (const json& r : *routes) {
      const json* dst = member(r, "dst");
      const json* gw = member(r, "gw");
      auto d = dst && dst->is_string() ? ip::prefix::parse(dst->get<std::string>()) : std::nullopt;
      if (!d) return exec_because("malformed \"ipam.routes\"");
      json route = {{"dst", ip::prefix{d->network(), d->length}.to_string()}};
      if (gw && !gw->is_null()) {
        auto g = gw->is_string() ? ip::address::parse(gw->get<std::string>()) : std::nullopt;
        if (!g) return exec_because("malformed \"ipam.routes\"");
        route["gw"] = g->to_string();
      }
      c.ipam_routes.push_back(std::move(route));
    }
  }
  if (const json* dns = member(plugin, "dns"); dns && dns->is_object()) {
    for (const char* key : {"nameservers", "domain", "search", "options"})
      if (const json* v = member(*dns, key); v && !v->is_null() && !v->empty()) c.dns[key] = *v;
  }
  return {std::move(c), {}};
}

}  // namespace ringcri::net::native
