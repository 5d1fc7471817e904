// sys::random_bytes and sys::random_hex (src/base/sys/random.hpp).

#include "base/sys/random.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstddef>
#include <set>
#include <string>

using namespace ringcri;

TEST_CASE("random_hex gives two lowercase hex digits per byte") {
  for (std::size_t bytes : {std::size_t{0}, std::size_t{1}, std::size_t{16}, std::size_t{32},
                            std::size_t{33}, std::size_t{100}}) {
    INFO(bytes);
    std::string hex = sys::random_hex(bytes);
    CHECK(hex.size() == 2 * bytes);
    CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
}

TEST_CASE("two random_hex calls differ") {
  // 128 bits each: equal only if the generator is broken.
  CHECK(sys::random_hex(16) != sys::random_hex(16));
}

TEST_CASE("random_bytes fills the whole buffer") {
  // 1,000 bytes: a zero byte left untouched at each of them by chance is
  // out of reach; every position must change in one of a few fills.
  std::array<std::byte, 1000> ever_set{};
  for (int round = 0; round < 8; ++round) {
    std::array<std::byte, 1000> buf{};
    sys::random_bytes(buf);
    for (std::size_t i = 0; i < buf.size(); ++i) ever_set[i] |= buf[i];
  }
  std::size_t untouched = 0;
  for (std::byte b : ever_set) untouched += b == std::byte{0};
  CHECK(untouched == 0);
}

TEST_CASE("random_hex spreads over every digit") {
  std::set<char> seen;
  for (char c : sys::random_hex(256)) seen.insert(c);
  CHECK(seen.size() == 16);
}
