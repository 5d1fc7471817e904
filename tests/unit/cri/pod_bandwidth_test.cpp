// The kubelet's bandwidth annotations: resource quantities read as
// resource.ParseQuantity and Quantity.Value() read them, the kubelet's
// range, and the limits containerd gives the bandwidth capability.

#include "cri/pod_bandwidth.hpp"

#include <catch2/catch.hpp>
#include <string>

using ringcri::cri::bandwidth_of;
using ringcri::cri::quantity_value;

namespace {

std::uint64_t value(const char* text) {
  auto v = quantity_value(text);
  INFO(text << ": " << (v ? std::string() : v.error().message()));
  REQUIRE(v);
  return *v;
}

}  // namespace

TEST_CASE("resource quantities: decimal, binary and exponent suffixes, rounded up") {
  CHECK(value("1000") == 1000);
  CHECK(value("10M") == 10'000'000);
  CHECK(value("1k") == 1000);
  CHECK(value("1Ki") == 1024);
  CHECK(value("1Gi") == 1073741824);
  CHECK(value("1.5M") == 1'500'000);
  CHECK(value("0.1k") == 100);
  CHECK(value(".5k") == 500);
  CHECK(value("2.") == 2);
  CHECK(value("2.5e6") == 2'500'000);
  CHECK(value("1E3") == 1000);
  CHECK(value("1e-3") == 1);     // 0.001, rounded up
  CHECK(value("1500m") == 2);    // 1.5, rounded up
  CHECK(value("100n") == 1);
  CHECK(value("+100k") == 100'000);
  CHECK(value("-10M") == 0);
  CHECK(value("1P") == 1'000'000'000'000'000ULL);
  CHECK(value("1E") == 1'000'000'000'000'000'000ULL);
  CHECK(value("100Ei") == UINT64_MAX);
  CHECK(value("1e100") == UINT64_MAX);
  CHECK(value("123456789012345678901234567890123456789012345") == UINT64_MAX);
  for (const char* bad : {"", "M", "1MB", "1 M", "1.2.3", "1e", "1e1.5", "1Ki2", "ten", "1mi", "--1"})
    CHECK_FALSE(quantity_value(bad));
}

TEST_CASE("bandwidth annotations: the kubelet's range, containerd's burst, the annotation named") {
  auto none = bandwidth_of(nullptr, nullptr);
  REQUIRE(none);
  CHECK_FALSE(none->has_value());

  std::string ten_m = "10M", one_gi = "1Gi";
  auto both = bandwidth_of(&ten_m, &one_gi);
  REQUIRE(both);
  REQUIRE(both->has_value());
  CHECK((*both)->ingress_rate == 10'000'000);
  CHECK((*both)->ingress_burst == 4294967295ULL);
  CHECK((*both)->egress_rate == 1073741824);
  CHECK((*both)->egress_burst == 4294967295ULL);

  auto egress_only = bandwidth_of(nullptr, &ten_m);
  REQUIRE(egress_only);
  CHECK((*egress_only)->ingress_rate == 0);
  CHECK((*egress_only)->ingress_burst == 0);

  std::string small = "999", large = "2P", bad = "fast";
  auto too_small = bandwidth_of(&small, nullptr);
  REQUIRE_FALSE(too_small);
  CHECK(too_small.error().kind() == ringcri::error_kind::invalid_argument);
  CHECK_THAT(too_small.error().message(),
             Catch::Contains("kubernetes.io/ingress-bandwidth") && Catch::Contains("< 1kbit"));
  auto too_large = bandwidth_of(nullptr, &large);
  REQUIRE_FALSE(too_large);
  CHECK_THAT(too_large.error().message(),
             Catch::Contains("kubernetes.io/egress-bandwidth") && Catch::Contains("> 1Pbit"));
  auto unreadable = bandwidth_of(&bad, nullptr);
  REQUIRE_FALSE(unreadable);
  CHECK_THAT(unreadable.error().message(), Catch::Contains("\"fast\""));
}
