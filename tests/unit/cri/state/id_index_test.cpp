#include "cri/state/id_index.hpp"

#include <catch2/catch.hpp>

using namespace ringcri;
using namespace ringcri::cri::state;

namespace {

id_index sample() {
  id_index idx("container");
  REQUIRE(idx.add("abc123"));
  REQUIRE(idx.add("abd456"));
  REQUIRE(idx.add("abd789"));
  REQUIRE(idx.add("ffff00"));
  return idx;
}

}  // namespace

TEST_CASE("id_index resolves a unique prefix to the full id") {
  id_index idx = sample();
  CHECK(idx.resolve("abc").value() == "abc123");
  CHECK(idx.resolve("abd4").value() == "abd456");
  CHECK(idx.resolve("f").value() == "ffff00");
  CHECK(idx.resolve("ffff00").value() == "ffff00");  // the full id itself
}

TEST_CASE("id_index refuses an ambiguous prefix, saying how many ids match") {
  id_index idx = sample();
  auto r = idx.resolve("ab");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::invalid_argument);
  CHECK(r.error().message() == "container id prefix \"ab\" is ambiguous: it matches 3 ids");

  auto r2 = idx.resolve("abd");
  REQUIRE_FALSE(r2);
  CHECK(r2.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(r2.error().message(), Catch::Contains("\"abd\"") && Catch::Contains("matches 2 ids"));
}

TEST_CASE("id_index reports an unknown prefix as not found, naming it") {
  id_index idx = sample();
  for (const char* prefix : {"0", "abe", "abc1234", "fffff", "zz"}) {
    auto r = idx.resolve(prefix);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::not_found);
    CHECK(r.error().message() == std::string("container \"") + prefix + "\" not found");
  }
  id_index empty("pod sandbox");
  auto r = empty.resolve("a");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::not_found);
  CHECK(r.error().message() == "pod sandbox \"a\" not found");
}

TEST_CASE("id_index refuses an empty prefix") {
  id_index idx = sample();
  auto r = idx.resolve("");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::invalid_argument);
  CHECK(r.error().message() == "container id is empty");
}

TEST_CASE("id_index: an exact id wins over longer ids it prefixes") {
  id_index idx("container");
  REQUIRE(idx.add("ab"));
  REQUIRE(idx.add("abc"));
  CHECK(idx.resolve("ab").value() == "ab");
  CHECK(idx.resolve("abc").value() == "abc");
  auto r = idx.resolve("a");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::invalid_argument);
}

TEST_CASE("id_index add refuses duplicates and empty ids; remove frees") {
  id_index idx = sample();
  auto dup = idx.add("abc123");
  REQUIRE_FALSE(dup);
  CHECK(dup.error().kind() == error_kind::already_exists);
  CHECK(dup.error().message() == "container \"abc123\" already exists");
  auto empty = idx.add("");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().kind() == error_kind::invalid_argument);

  CHECK(idx.size() == 4);
  CHECK(idx.remove("abd456"));
  CHECK_FALSE(idx.remove("abd456"));
  CHECK_FALSE(idx.contains("abd456"));
  CHECK(idx.size() == 3);
  // With abd456 gone, "abd" is no longer ambiguous.
  CHECK(idx.resolve("abd").value() == "abd789");
}
