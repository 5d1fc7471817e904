#include "net/native/flannel_config.hpp"

#include <fmt/format.h>

#include <charconv>

#include "net/native/json_member.hpp"

namespace ringcri::net::native {

namespace {

using nlohmann::json;

tl::unexpected<error> invalid(std::string message) {
  return fail(error_kind::invalid_argument, std::move(message));
}

// net.ParseCIDR's network: the address masked to its prefix.
std::optional<ip::prefix> parse_network(std::string_view text) {
  auto p = ip::prefix::parse(text);
  if (!p) return std::nullopt;
  return ip::prefix{p->network(), p->length};
}

std::vector<std::string_view> split(std::string_view text, char by) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    auto end = text.find(by, start);
    out.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

result<std::vector<ip::prefix>> parse_networks(std::string_view value) {
  std::vector<ip::prefix> out;
  for (std::string_view cidr : split(value, ',')) {
    auto nw = parse_network(cidr);
    if (!nw) return invalid(fmt::format("invalid CIDR address: {}", cidr));
    if (std::find(out.begin(), out.end(), *nw) == out.end()) out.push_back(*nw);
  }
  return out;
}

// ipam.routes as the plugin reads them into CNI routes: a "dst" CIDR (its
// address kept as written) and an optional "gw".
result<json> ipam_routes(const json& ipam) {
  json out = json::array();
  if (!ipam.is_object() || !ipam.contains("routes")) return out;
  const json& routes = ipam["routes"];
  if (routes.is_null()) return out;
  auto bad = [] { return invalid("failed to read IPAM routes: failed to parse ipam.routes"); };
  if (!routes.is_array()) return bad();
  for (const json& r : routes) {
    const json* dst = member(r, "dst");
    const json* gw = member(r, "gw");
    auto d = dst && dst->is_string() ? ip::prefix::parse(dst->get<std::string>()) : std::nullopt;
    if (!d) return bad();
    json route = {{"dst", d->to_string()}};
    if (gw && !gw->is_null()) {
      auto g = gw->is_string() ? ip::address::parse(gw->get<std::string>()) : std::nullopt;
      if (!g) return bad();
      route["gw"] = g->to_string();
    }
    out.push_back(std::move(route));
  }
  return out;
}

}  // namespace

flannel_choice choose_flannel(const json& plugin) {
  flannel_config c;
  auto read_string = [&](const char* key, std::string& out) {
    const json* v = member(plugin, key);
    if (!v || v->is_null()) return true;
    if (!v->is_string()) return false;
    out = v->get<std::string>();
    return true;
  };
  for (auto [key, field] : {std::pair{"name", &c.name}, std::pair{"cniVersion", &c.cni_version},
                            std::pair{"subnetFile", &c.subnet_file},
                            std::pair{"dataDir", &c.data_dir}})
    if (!read_string(key, *field)) return {std::nullopt, fmt::format("malformed \"{}\"", key)};
  for (auto [key, field] : {std::pair{"delegate", &c.delegate}, std::pair{"ipam", &c.ipam},
                            std::pair{"runtimeConfig", &c.runtime_config}}) {
    const json* v = member(plugin, key);
    if (!v || v->is_null()) continue;
    if (!v->is_object()) return {std::nullopt, fmt::format("malformed \"{}\"", key)};
    *field = *v;
  }
  if (auto type = c.delegate.find("type");
      type != c.delegate.end() && type->is_string() && *type != "bridge")
    return {std::nullopt, fmt::format("a delegate of type \"{}\"", type->get<std::string>())};
  return {std::move(c), {}};
}

result<subnet_env> parse_subnet_env(std::string_view text, const std::string& file_name) {
  subnet_env env;
  for (std::string_view line : split(text, '\n')) {
    auto eq = line.find('=');
    std::string_view key = line.substr(0, eq);
    bool known = key == "FLANNEL_NETWORK" || key == "FLANNEL_SUBNET" ||
                 key == "FLANNEL_IPV6_NETWORK" || key == "FLANNEL_IPV6_SUBNET" ||
                 key == "FLANNEL_MTU" || key == "FLANNEL_IPMASQ";
    if (!known) continue;
    if (eq == std::string_view::npos)
      return invalid(fmt::format("{}: {} has no value", file_name, key));
    std::string_view value = line.substr(eq + 1);
    if (key == "FLANNEL_NETWORK" || key == "FLANNEL_IPV6_NETWORK") {
      auto nws = parse_networks(value);
      if (!nws) return tl::unexpected(std::move(nws.error()));
      (key == "FLANNEL_NETWORK" ? env.networks : env.ipv6_networks) = std::move(*nws);
    } else if (key == "FLANNEL_SUBNET" || key == "FLANNEL_IPV6_SUBNET") {
      auto sn = parse_network(value);
      if (!sn) return invalid(fmt::format("invalid CIDR address: {}", value));
      (key == "FLANNEL_SUBNET" ? env.subnet : env.ipv6_subnet) = *sn;
    } else if (key == "FLANNEL_MTU") {
      unsigned long mtu = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), mtu);
      if (ec != std::errc() || end != value.data() + value.size() || mtu > 0xffffffffUL)
        return invalid(fmt::format("strconv.ParseUint: parsing \"{}\": invalid syntax", value));
      env.mtu = static_cast<unsigned>(mtu);
    } else {
      env.ipmasq = value == "true";
    }
  }
  std::vector<std::string> missing;
  if (env.networks.empty() && env.ipv6_networks.empty())
    missing.insert(missing.end(), {"FLANNEL_NETWORK", "FLANNEL_IPV6_NETWORK"});
  if (!env.subnet && !env.ipv6_subnet)
    missing.insert(missing.end(), {"FLANNEL_SUBNET", "FLANNEL_IPV6_SUBNET"});
  if (!env.mtu) missing.push_back("FLANNEL_MTU");
  if (!env.ipmasq) missing.push_back("FLANNEL_IPMASQ");
  if (!missing.empty())
    return invalid(fmt::format("{} is missing {}", file_name, fmt::join(missing, ", ")));
  return env;
}

result<json> render_delegate(const flannel_config& config, const subnet_env& env) {
  json d = config.delegate;
  if (d.contains("type") && !d["type"].is_string())
    return invalid("'delegate' dictionary, if present, must have (string) 'type' field");
  if (d.contains("name"))
    return invalid("'delegate' dictionary must not have 'name' field, it'll be set by flannel");
  if (d.contains("ipam"))
    return invalid("'delegate' dictionary must not have 'ipam' field, it'll be set by flannel");
  if (config.runtime_config.is_object()) d["runtimeConfig"] = config.runtime_config;
  d["name"] = config.name;
  if (!d.contains("type")) d["type"] = "bridge";
  if (!d.contains("ipMasq")) d["ipMasq"] = !*env.ipmasq;  // masquerade if flannel does not
  if (!d.contains("mtu")) d["mtu"] = *env.mtu;
  if (d["type"] == "bridge" && !d.contains("isGateway")) d["isGateway"] = true;
  if (!config.cni_version.empty()) d["cniVersion"] = config.cni_version;

  json ipam = config.ipam.is_object() ? config.ipam : json::object();
  if (!ipam.contains("type")) ipam["type"] = "host-local";
  json ranges = json::array();
  for (const auto& sn : {env.subnet, env.ipv6_subnet})
    if (sn) ranges.push_back(json::array({{{"subnet", sn->to_string()}}}));
  auto routes = ipam_routes(ipam);
  if (!routes) return tl::unexpected(std::move(routes.error()));
  for (const auto* nws : {&env.networks, &env.ipv6_networks})
    for (const auto& nw : *nws) routes->push_back({{"dst", nw.to_string()}});
  ipam["ranges"] = std::move(ranges);
  ipam["routes"] = std::move(*routes);
  d["ipam"] = std::move(ipam);
  return d;
}

std::string saved_form(const json& delegate) {
  // Go's encoder writes <, > and & (which JSON has only inside strings)
  // escaped, and U+2028 and U+2029 too.
  std::string text = delegate.dump();
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (ch == '<') out += "\\u003c";
    else if (ch == '>') out += "\\u003e";
    else if (ch == '&') out += "\\u0026";
    else if (text.compare(i, 3, "\xe2\x80\xa8") == 0) out += "\\u2028", i += 2;
    else if (text.compare(i, 3, "\xe2\x80\xa9") == 0) out += "\\u2029", i += 2;
    else out += ch;
  }
  return out;
}

}  // namespace ringcri::net::native
