// Reading a CNI result (see result_json.hpp).

#include "net/cni/result_json.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace ringcri::net::cni {

using nlohmann::json;

namespace {

tl::unexpected<error> malformed(std::string_view problem) {
  return fail(error_kind::internal, fmt::format("malformed CNI result: {}", problem));
}

// "10.88.0.5/16" or "fd00::5/64" (a bare address gets the full prefix).
result<pod_ip> parse_address(const std::string& cidr) {
  pod_ip ip;
  auto slash = cidr.find('/');
  ip.address = cidr.substr(0, slash);
  unsigned char buf[16];
  if (::inet_pton(AF_INET, ip.address.c_str(), buf) == 1) {
    ip.family = 4;
  } else if (::inet_pton(AF_INET6, ip.address.c_str(), buf) == 1) {
    ip.family = 6;
  } else {
    return malformed(fmt::format("\"{}\" is not an IP address", cidr));
  }
  int max_prefix = ip.family == 4 ? 32 : 128;
  ip.prefix_length = max_prefix;
  if (slash != std::string::npos) {
    std::string_view digits = std::string_view(cidr).substr(slash + 1);
    int n = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || n < 0 || n > max_prefix)
      return malformed(fmt::format("\"{}\" has a bad prefix length", cidr));
    ip.prefix_length = n;
  }
  return ip;
}

bool is_loopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "::1";
}

// The indexes of the pod's own interfaces, or nullopt for "take every IP"
// (no interfaces listed, or none of them in a sandbox).
std::optional<std::set<long>> pod_interfaces(const json& doc, std::string_view netns_path) {
  auto it = doc.find("interfaces");
  if (it == doc.end() || !it->is_array() || it->empty()) return std::nullopt;
  std::set<long> exact, any_sandbox;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& iface = (*it)[i];
    if (!iface.is_object()) continue;
    auto sandbox = iface.find("sandbox");
    if (sandbox == iface.end() || !sandbox->is_string() || sandbox->get<std::string>().empty())
      continue;
    any_sandbox.insert(static_cast<long>(i));
    if (sandbox->get<std::string>() == netns_path) exact.insert(static_cast<long>(i));
  }
  if (any_sandbox.empty()) return std::nullopt;
  return exact.empty() ? any_sandbox : exact;
}

}  // namespace

result<std::vector<pod_ip>> parse_pod_ips(std::string_view result_json,
                                          std::string_view netns_path) {
  json doc = json::parse(result_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return malformed("not a JSON object");

  auto mine = pod_interfaces(doc, netns_path);
  std::vector<pod_ip> ips;
  auto list = doc.find("ips");
  if (list == doc.end() || list->is_null()) return ips;
  if (!list->is_array()) return malformed("\"ips\" is not a list");
  for (const json& entry : *list) {
    if (!entry.is_object()) return malformed("an \"ips\" entry is not an object");
    auto address = entry.find("address");
    if (address == entry.end() || !address->is_string())
      return malformed("an \"ips\" entry has no \"address\"");
    if (mine) {
      // An IP that names no interface cannot be ruled out: keep it.
      auto index = entry.find("interface");
      if (index != entry.end() && index->is_number_integer() && !mine->contains(index->get<long>()))
        continue;
    }
    auto ip = parse_address(address->get<std::string>());
    if (!ip) return tl::unexpected(std::move(ip.error()));
    // The loopback plugin's lo is in the sandbox too; it is no pod IP.
    if (is_loopback(ip->address)) continue;
    auto gateway = entry.find("gateway");
    if (gateway != entry.end() && gateway->is_string()) ip->gateway = gateway->get<std::string>();
    ips.push_back(std::move(*ip));
  }
  std::stable_partition(ips.begin(), ips.end(), [](const pod_ip& ip) { return ip.family == 4; });
  return ips;
}

}  // namespace ringcri::net::cni
