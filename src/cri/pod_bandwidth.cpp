#include "cri/pod_bandwidth.hpp"

#include <fmt/format.h>

#include <limits>

namespace ringcri::cri {

namespace {

using u128 = unsigned __int128;

// Past this the value is too large for anything the kubelet accepts; the
// arithmetic stops growing there.
constexpr u128 ceiling = static_cast<u128>(1) << 100;

u128 times(u128 v, u128 by) { return v > ceiling / by ? ceiling : v * by; }

tl::unexpected<error> refuse(std::string_view text) {
  return fail(error_kind::invalid_argument,
              fmt::format("\"{}\" is not a resource quantity (quantities must match the regular "
                          "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$')",
                          text));
}

}  // namespace

result<std::uint64_t> quantity_value(std::string_view text) {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  u128 mantissa = 0;
  bool sticky = false;  // digits dropped past the ceiling were not all 0
  int exponent = 0;     // of ten
  bool digits = false, point = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    digits = true;
    if (mantissa < ceiling) {
      mantissa = mantissa * 10 + static_cast<unsigned>(c - '0');
      if (point) --exponent;
    } else {
      sticky |= c != '0';
      if (!point) ++exponent;
    }
  }
  if (!digits) return refuse(text);
  std::string_view suffix = text.substr(i);
  unsigned binary = 0;  // a power of two
  if (suffix.size() == 2 && suffix[1] == 'i') {
    const std::string_view units = "KMGTPE";
    auto at = units.find(suffix[0]);
    if (at == std::string_view::npos) return refuse(text);
    binary = static_cast<unsigned>(10 * (at + 1));
  } else if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::size_t j = 1;
    bool minus = false;
    if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) minus = suffix[j++] == '-';
    if (j == suffix.size()) return refuse(text);  // "1e+"
    int e = 0;
    for (; j < suffix.size(); ++j) {
      if (suffix[j] < '0' || suffix[j] > '9') return refuse(text);
      e = std::min(e * 10 + (suffix[j] - '0'), 1000);
    }
    exponent += minus ? -e : e;
  } else if (suffix.size() <= 1) {
    static constexpr std::pair<char, int> decimal[] = {{'n', -9}, {'u', -6}, {'m', -3}, {'k', 3},
                                                       {'M', 6},  {'G', 9},  {'T', 12}, {'P', 15},
                                                       {'E', 18}};
    if (!suffix.empty()) {
      bool known = false;
      for (auto [unit, e] : decimal)
        if (suffix[0] == unit) {
          exponent += e;
          known = true;
        }
      if (!known) return refuse(text);
    }
  } else {
    return refuse(text);
  }
  if (negative && (mantissa != 0 || sticky)) return std::uint64_t{0};
  u128 value = mantissa;
  for (unsigned b = 0; b < binary; ++b) value = times(value, 2);
  for (; exponent > 0; --exponent) value = times(value, 10);
  bool remainder = sticky;
  for (; exponent < 0 && value != 0; ++exponent) {
    remainder |= value % 10 != 0;
    value /= 10;
  }
  if (exponent < 0) remainder |= sticky || mantissa != 0;
  if (remainder) ++value;  // Value() rounds up
  constexpr auto most = std::numeric_limits<std::uint64_t>::max();
  return value >= most ? most : static_cast<std::uint64_t>(value);
}

result<std::optional<net::cni::bandwidth_limits>> bandwidth_of(const std::string* ingress,
                                                               const std::string* egress) {
  if (!ingress && !egress) return std::optional<net::cni::bandwidth_limits>();
  net::cni::bandwidth_limits limits;
  constexpr std::uint64_t burst = std::numeric_limits<std::uint32_t>::max();
  for (auto [annotation, text, rate, burst_of] :
       {std::tuple{ingress_bandwidth_annotation, ingress, &limits.ingress_rate,
                   &limits.ingress_burst},
        std::tuple{egress_bandwidth_annotation, egress, &limits.egress_rate,
                   &limits.egress_burst}}) {
    if (!text) continue;
    auto value = quantity_value(*text);
    if (!value)
      return fail(error_kind::invalid_argument,
                  fmt::format("annotation {}: {}", annotation, value.error().message()));
    if (*value < 1000)
      return fail(error_kind::invalid_argument,
                  fmt::format("annotation {}: \"{}\": resource is unreasonably small (< 1kbit)",
                              annotation, *text));
    if (*value > 1'000'000'000'000'000ULL)
      return fail(error_kind::invalid_argument,
                  fmt::format("annotation {}: \"{}\": resource is unreasonably large (> 1Pbit)",
                              annotation, *text));
    *rate = *value;
    *burst_of = burst;
  }
  return std::optional<net::cni::bandwidth_limits>(limits);
}

}  // namespace ringcri::cri
