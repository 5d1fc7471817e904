#include "net/ipam/range.hpp"

#include <fmt/format.h>

namespace ringcri::net::ipam {

bool range::contains(const ip::address& a) const {
  return subnet.contains(a) && a >= start && a <= end;
}

std::string range::to_string() const {
  return fmt::format("{}-{}", start.to_string(), end.to_string());
}

result<range> make_range(const range_spec& spec) {
  auto subnet = ip::prefix::parse(spec.subnet);
  if (!subnet)
    return fail(error_kind::invalid_argument, fmt::format("invalid subnet \"{}\"", spec.subnet));
  if (subnet->length > subnet->addr.bits() - 2)
    return fail(error_kind::invalid_argument,
                fmt::format("network {} too small to allocate from", subnet->to_string()));
  if (subnet->network() != subnet->addr)
    return fail(
        error_kind::invalid_argument,
        fmt::format(
            "network {} has host bits set: for a prefix of length {} the network address is {}",
            subnet->to_string(), subnet->length, subnet->network().to_string()));
  range r;
  r.subnet = *subnet;
  auto address_in_subnet = [&](const std::optional<std::string>& text, const char* what,
                               bool check_inside) -> result<std::optional<ip::address>> {
    if (!text) return std::optional<ip::address>();
    auto a = ip::address::parse(*text);
    if (!a)
      return fail(error_kind::invalid_argument, fmt::format("invalid {} \"{}\"", what, *text));
    if (check_inside && !subnet->contains(*a))
      return fail(error_kind::invalid_argument, fmt::format("{} {} not in network {}", what,
                                                            a->to_string(), subnet->to_string()));
    return std::optional<ip::address>(*a);
  };
  auto gateway = address_in_subnet(spec.gateway, "gateway", false);
  if (!gateway) return tl::unexpected(gateway.error());
  auto start = address_in_subnet(spec.range_start, "rangeStart", true);
  if (!start) return tl::unexpected(start.error());
  auto end = address_in_subnet(spec.range_end, "rangeEnd", true);
  if (!end) return tl::unexpected(end.error());

  ip::address first_host = subnet->addr.next();
  r.gateway = gateway->value_or(first_host);
  r.start = start->value_or(first_host);
  // The last address of the subnet, less IPv4's broadcast address.
  ip::address last = subnet->addr.with_host_bits_set(subnet->length);
  r.end = end->value_or(last.is_v4() ? last.prev() : last);
  // host-local tests rangeEnd with the range's own contains(), so an end
  // before the start is refused the same way.
  if (*end && r.end < r.start)
    return fail(error_kind::invalid_argument, fmt::format("rangeEnd {} not in network {}",
                                                          r.end.to_string(), subnet->to_string()));
  return r;
}

bool overlaps(const range& a, const range& b) {
  if (a.start.family() != b.start.family()) return false;
  return a.contains(b.start) || a.contains(b.end) || b.contains(a.start) || b.contains(a.end);
}

result<void> check_range_set(const range_set& set) {
  if (set.empty()) return fail(error_kind::invalid_argument, "empty range set");
  for (const range& r : set)
    if (r.start.family() != set.front().start.family())
      return fail(error_kind::invalid_argument, "mixed address families");
  for (std::size_t i = 0; i + 1 < set.size(); ++i)
    for (std::size_t j = i + 1; j < set.size(); ++j)
      if (overlaps(set[i], set[j]))
        return fail(
            error_kind::invalid_argument,
            fmt::format("subnets {} and {} overlap", set[i].to_string(), set[j].to_string()));
  return {};
}

const range* range_for(const range_set& set, const ip::address& a) {
  for (const range& r : set)
    if (r.contains(a)) return &r;
  return nullptr;
}

bool contains(const range_set& set, const ip::address& a) { return range_for(set, a) != nullptr; }

bool overlaps(const range_set& a, const range_set& b) {
  for (const range& x : a)
    for (const range& y : b)
      if (overlaps(x, y)) return true;
  return false;
}

std::string to_string(const range_set& set) {
  std::string out;
  for (const range& r : set) {
    if (!out.empty()) out += ',';
    out += r.to_string();
  }
  return out;
}

}  // namespace ringcri::net::ipam
