// usage_nano_cores from two samples.

#include <catch2/catch.hpp>

#include "cri/stats/cpu_rate.hpp"

namespace stats = ringcri::cri::stats;

TEST_CASE("cpu rate: none at first, then CPU ns per wall second since the last sample") {
  stats::cpu_rate rates;
  CHECK_FALSE(rates.nano_cores("c1", 1'000'000'000, 5'000'000'000));
  // 0.5 s of CPU over 2 s: a quarter of a core.
  auto rate = rates.nano_cores("c1", 3'000'000'000, 5'500'000'000);
  REQUIRE(rate);
  CHECK(*rate == 250'000'000);
  // Another id has its own samples.
  CHECK_FALSE(rates.nano_cores("c2", 3'000'000'000, 1));
  // A counter that went back (a new cgroup under the same id) gives no rate.
  CHECK_FALSE(rates.nano_cores("c1", 4'000'000'000, 10));
}
