// The stdin config and CNI_ARGS of one plugin call (see plugin_config.hpp).

#include "net/cni/plugin_config.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace ringcri::net::cni {

using nlohmann::json;

namespace {

bool declares(const json& plugin, const char* capability) {
  auto caps = plugin.find("capabilities");
  if (caps == plugin.end() || !caps->is_object()) return false;
  auto c = caps->find(capability);
  return c != caps->end() && c->is_boolean() && c->get<bool>();
}

json port_mappings_json(const std::vector<port_mapping>& ports) {
  json list = json::array();
  for (const auto& p : ports) {
    json entry = {
        {"hostPort", p.host_port}, {"containerPort", p.container_port}, {"protocol", p.protocol}};
    if (!p.host_ip.empty()) entry["hostIP"] = p.host_ip;
    list.push_back(std::move(entry));
  }
  return list;
}

}  // namespace

result<std::string> plugin_stdin(const network_list& list, size_t index,
                                 std::string_view prev_result,
                                 const std::vector<port_mapping>& ports,
                                 const std::optional<bandwidth_limits>& bandwidth) {
  if (index >= list.plugins.size())
    return fail(error_kind::internal, fmt::format("no plugin {} in network {}", index, list.name));
  json conf = list.plugins[index];
  conf["name"] = list.name;
  conf["cniVersion"] = list.cni_version;
  conf.erase("prevResult");
  if (!prev_result.empty()) {
    json prev = json::parse(prev_result, nullptr, false);
    if (prev.is_discarded() || !prev.is_object())
      return fail(error_kind::internal, "the previous CNI result is not a JSON object");
    conf["prevResult"] = std::move(prev);
  }
  json runtime = json::object();
  if (declares(conf, "portMappings") && !ports.empty())
    runtime["portMappings"] = port_mappings_json(ports);
  if (declares(conf, "bandwidth") && bandwidth)
    runtime["bandwidth"] = {{"ingressRate", bandwidth->ingress_rate},
                            {"ingressBurst", bandwidth->ingress_burst},
                            {"egressRate", bandwidth->egress_rate},
                            {"egressBurst", bandwidth->egress_burst}};
  if (!runtime.empty()) conf["runtimeConfig"] = std::move(runtime);
  // Plugins write non-ASCII as-is; replace rather than throw on bad UTF-8.
  return conf.dump(-1, ' ', false, json::error_handler_t::replace);
}

result<std::string> cni_args(const std::vector<std::pair<std::string, std::string>>& args) {
  std::string out;
  for (const auto& [key, value] : args) {
    if (key.empty() || key.find_first_of(";=") != std::string::npos ||
        value.find_first_of(";=") != std::string::npos)
      return fail(error_kind::invalid_argument,
                  fmt::format("CNI_ARGS pair \"{}={}\" cannot hold ';' or '='", key, value));
    if (!out.empty()) out += ';';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

}  // namespace ringcri::net::cni
