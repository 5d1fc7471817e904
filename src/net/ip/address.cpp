#include "net/ip/address.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace ringcri::net::ip {

address address::v4(std::uint32_t host_order) {
  address a;
  a.family_ = AF_INET;
  for (int i = 0; i < 4; ++i) a.bytes_[i] = static_cast<std::uint8_t>(host_order >> (24 - 8 * i));
  return a;
}

address address::from_bytes(std::span<const std::uint8_t> bytes) {
  address a;
  a.family_ = bytes.size() == 4 ? AF_INET : AF_INET6;
  std::copy_n(bytes.begin(), std::min<std::size_t>(bytes.size(), 16), a.bytes_.begin());
  return a;
}

std::optional<address> address::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string z(text);
  address a;
  if (::inet_pton(AF_INET, z.c_str(), a.bytes_.data()) == 1) {
    a.family_ = AF_INET;
    return a;
  }
  if (::inet_pton(AF_INET6, z.c_str(), a.bytes_.data()) == 1) {
    a.family_ = AF_INET6;
    return a;
  }
  return std::nullopt;
}

address address::next() const {
  address n = *this;
  for (std::size_t i = size(); i-- > 0;)
    if (++n.bytes_[i] != 0) break;
  return n;
}

address address::prev() const {
  address p = *this;
  for (std::size_t i = size(); i-- > 0;)
    if (p.bytes_[i]-- != 0) break;
  return p;
}

address address::masked(unsigned length) const {
  address m = *this;
  for (unsigned bit = length; bit < bits(); ++bit) m.bytes_[bit / 8] &= ~(0x80u >> (bit % 8));
  return m;
}

address address::with_host_bits_set(unsigned length) const {
  address m = *this;
  for (unsigned bit = length; bit < bits(); ++bit) m.bytes_[bit / 8] |= 0x80u >> (bit % 8);
  return m;
}

std::string address::to_string() const {
  if (is_v4()) return fmt::format("{}.{}.{}.{}", bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
  // Go's rule: the longest run of two or more zero groups (the first of
  // equals) becomes "::"; groups in lower-case hex without leading zeros.
  std::array<unsigned, 8> group{};
  for (int i = 0; i < 8; ++i) group[i] = (bytes_[2 * i] << 8) | bytes_[2 * i + 1];
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (group[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && group[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    out += fmt::format("{:x}", group[i]);
  }
  return out;
}

std::strong_ordering address::operator<=>(const address& o) const {
  if (family_ != o.family_)
    return family_ == AF_INET ? std::strong_ordering::less : std::strong_ordering::greater;
  return std::lexicographical_compare_three_way(bytes_.begin(), bytes_.begin() + size(),
                                                o.bytes_.begin(), o.bytes_.begin() + o.size());
}

std::optional<prefix> prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto a = address::parse(text.substr(0, slash));
  if (!a) return std::nullopt;
  auto len_text = text.substr(slash + 1);
  unsigned length = 0;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), length);
  if (ec != std::errc() || end != len_text.data() + len_text.size() || len_text.empty() ||
      length > a->bits())
    return std::nullopt;
  return prefix{*a, length};
}

bool prefix::contains(const address& a) const {
  return a.family() == addr.family() && a.masked(length) == network();
}

std::string prefix::to_string() const { return fmt::format("{}/{}", addr.to_string(), length); }

}  // namespace ringcri::net::ip
