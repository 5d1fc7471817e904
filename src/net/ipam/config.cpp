#include "net/ipam/config.hpp"

#include <fmt/format.h>
#include <strings.h>

#include <nlohmann/json.hpp>

namespace ringcri::net::ipam {

namespace {

using nlohmann::json;

// Go's encoding/json: an exact key wins, else the first that matches
// without regard to case.
const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  if (auto it = object.find(key); it != object.end()) return &*it;
  for (auto it = object.begin(); it != object.end(); ++it)
    if (::strcasecmp(it.key().c_str(), key) == 0) return &*it;
  return nullptr;
}

result<std::optional<std::string>> optional_string(const json& object, const char* key) {
  const json* v = member(object, key);
  if (!v || v->is_null()) return std::optional<std::string>();
  if (!v->is_string())
    return fail(error_kind::invalid_argument, fmt::format("\"{}\" is not a string", key));
  return std::optional<std::string>(v->get<std::string>());
}

result<range> parse_range(const json& object) {
  auto subnet = optional_string(object, "subnet");
  if (!subnet) return tl::unexpected(subnet.error());
  if (!*subnet) return fail(error_kind::invalid_argument, "a range without \"subnet\"");
  range_spec spec;
  spec.subnet = **subnet;
  for (auto [key, field] :
       {std::pair{"rangeStart", &spec.range_start}, std::pair{"rangeEnd", &spec.range_end},
        std::pair{"gateway", &spec.gateway}}) {
    auto value = optional_string(object, key);
    if (!value) return tl::unexpected(value.error());
    *field = std::move(*value);
  }
  return make_range(spec);
}

}  // namespace

result<ipam_config> parse_ipam_config(const json& network) {
  ipam_config config;
  const json* name = member(network, "name");
  if (!name || !name->is_string() || name->get<std::string>().empty())
    return fail(error_kind::invalid_argument, "the network config has no \"name\"");
  config.network = name->get<std::string>();
  const json* ipam = member(network, "ipam");
  if (!ipam || !ipam->is_object())
    return fail(error_kind::invalid_argument, "IPAM config missing 'ipam' key");

  auto data_dir = optional_string(*ipam, "dataDir");
  if (!data_dir) return tl::unexpected(data_dir.error());
  if (*data_dir && !(*data_dir)->empty()) config.data_dir = **data_dir;

  // The old single range first, then `ranges` in order.
  if (const json* subnet = member(*ipam, "subnet"); subnet && !subnet->is_null()) {
    auto r = parse_range(*ipam);
    if (!r) return tl::unexpected(std::move(r.error()).context("invalid range set 0"));
    config.ranges.push_back({*r});
  }
  if (const json* ranges = member(*ipam, "ranges"); ranges && !ranges->is_null()) {
    if (!ranges->is_array())
      return fail(error_kind::invalid_argument, "\"ranges\" is not a list of range sets");
    for (const json& set_json : *ranges) {
      std::size_t index = config.ranges.size();
      if (!set_json.is_array())
        return fail(error_kind::invalid_argument,
                    fmt::format("range set {} is not a list of ranges", index));
      range_set set;
      for (const json& range_json : set_json) {
        auto r = parse_range(range_json);
        if (!r)
          return tl::unexpected(
              std::move(r.error()).context(fmt::format("invalid range set {}", index)));
        set.push_back(*r);
      }
      config.ranges.push_back(std::move(set));
    }
  }
  if (config.ranges.empty()) return fail(error_kind::invalid_argument, "no IP ranges specified");
  for (std::size_t i = 0; i < config.ranges.size(); ++i) {
    auto checked = check_range_set(config.ranges[i]);
    if (!checked)
      return tl::unexpected(
          std::move(checked.error()).context(fmt::format("invalid range set {}", i)));
  }
  for (std::size_t i = 0; i + 1 < config.ranges.size(); ++i)
    for (std::size_t j = i + 1; j < config.ranges.size(); ++j)
      if (overlaps(config.ranges[i], config.ranges[j]))
        return fail(error_kind::invalid_argument,
                    fmt::format("range set {} overlaps with {}", i, j));
  return config;
}

}  // namespace ringcri::net::ipam
