#include "cri/state/ids.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <type_traits>
#include <unordered_set>

using namespace ringcri::cri::state;

static_assert(!std::is_convertible_v<sandbox_id, container_id>);
static_assert(!std::is_convertible_v<container_id, sandbox_id>);
static_assert(!std::is_convertible_v<std::string, sandbox_id>);

TEST_CASE("new_id gives 64 lowercase hex digits") {
  for (int i = 0; i < 100; ++i) {
    std::string id = new_id();
    REQUIRE(id.size() == 64);
    for (char c : id) REQUIRE(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
    REQUIRE(is_full_id(id));
  }
}

TEST_CASE("new_id does not repeat over 10,000 ids") {
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(new_id());
  REQUIRE(seen.size() == 10000);
}

TEST_CASE("new_id uses every hex digit") {
  // 100 ids are 6,400 digits: a missing digit would mean a broken encoder.
  std::unordered_set<char> digits;
  for (int i = 0; i < 100; ++i)
    for (char c : new_id()) digits.insert(c);
  REQUIRE(digits.size() == 16);
}

TEST_CASE("is_full_id accepts only 64 lowercase hex digits") {
  std::string good(64, 'a');
  CHECK(is_full_id(good));
  CHECK(is_full_id(std::string(64, '0')));
  CHECK_FALSE(is_full_id(""));
  CHECK_FALSE(is_full_id(std::string(63, 'a')));
  CHECK_FALSE(is_full_id(std::string(65, 'a')));
  CHECK_FALSE(is_full_id(std::string(64, 'A')));  // uppercase
  CHECK_FALSE(is_full_id(std::string(64, 'g')));
  std::string with_space = good;
  with_space[10] = ' ';
  CHECK_FALSE(is_full_id(with_space));
}

TEST_CASE("ids compare and hash by value") {
  sandbox_id a{"aa"}, a2{"aa"}, b{"bb"};
  CHECK(a == a2);
  CHECK(a != b);
  CHECK(a < b);
  CHECK(std::hash<sandbox_id>{}(a) == std::hash<sandbox_id>{}(a2));

  std::unordered_set<container_id> set{container_id{"x"}, container_id{"x"}, container_id{"y"}};
  CHECK(set.size() == 2);
  CHECK(set.contains(container_id{"y"}));
}
