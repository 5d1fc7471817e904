// The one-time URLs' tokens: one use, one minute, a bound on how many wait.

#include <catch2/catch.hpp>

#include <set>

#include "cri/streaming/request_cache.hpp"

using namespace ringcri::cri::streaming;
using clock_type = request_cache::clock;

TEST_CASE("a token gives its request back once") {
  request_cache cache;
  exec_request e;
  e.container_id = "abc";
  e.cmd = {"sh", "-c", "true"};
  auto token = cache.insert(e);
  REQUIRE(token);
  CHECK(token->size() >= 20);
  auto got = cache.take(*token);
  REQUIRE(got);
  REQUIRE(std::holds_alternative<exec_request>(*got));
  CHECK(std::get<exec_request>(*got).cmd == e.cmd);
  CHECK_FALSE(cache.take(*token));
  CHECK_FALSE(cache.take("not-a-token"));
}

TEST_CASE("tokens are distinct and URL-safe") {
  request_cache cache;
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto token = cache.insert(attach_request{});
    REQUIRE(token);
    CHECK(token->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    seen.insert(*token);
  }
  CHECK(seen.size() == 200);
}

TEST_CASE("a token expires after a minute") {
  request_cache cache;
  auto t0 = clock_type::now();
  auto early = cache.insert(port_forward_request{"pod", {80}}, t0);
  auto late = cache.insert(port_forward_request{"pod", {81}}, t0);
  REQUIRE(early);
  REQUIRE(late);
  CHECK(cache.take(*early, t0 + std::chrono::seconds(59)));
  CHECK_FALSE(cache.take(*late, t0 + std::chrono::seconds(61)));
}

TEST_CASE("at most 1000 wait; expired ones make room") {
  request_cache cache;
  auto t0 = clock_type::now();
  for (std::size_t i = 0; i < request_cache::max_pending; ++i) REQUIRE(cache.insert(exec_request{}, t0));
  auto full = cache.insert(exec_request{}, t0 + std::chrono::seconds(1));
  REQUIRE_FALSE(full);
  CHECK(full.error().kind() == ringcri::error_kind::resource_exhausted);
  CHECK(cache.insert(exec_request{}, t0 + std::chrono::minutes(2)));
}
