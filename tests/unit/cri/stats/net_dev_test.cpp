// /proc/net/dev as the kernel writes it -> per-interface counters.

#include <catch2/catch.hpp>

#include "cri/stats/network_usage.hpp"

namespace stats = ringcri::cri::stats;

TEST_CASE("net/dev: every interface but lo, with rx/tx bytes, packets, errors and drops") {
  const char* text =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
      "carrier compressed\n"
      "    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0 "
      "      0          0\n"
      "  eth0: 1234567    900    3    0    0     0          0         0   765432     800    2    0    0     0 "
      "      0          0\n"
      "  net1:       5      1    0    9    0     0          0         0        7       1    0   11    0     0 "
      "      0          0\n";
  auto ifaces = stats::parse_net_dev(text);
  REQUIRE(ifaces.size() == 2);
  CHECK(ifaces[0].name == "eth0");
  CHECK(ifaces[0].rx_bytes == 1234567);
  CHECK(ifaces[0].rx_errors == 3);
  CHECK(ifaces[0].tx_bytes == 765432);
  CHECK(ifaces[0].tx_errors == 2);
  CHECK(ifaces[0].rx_packets == 900);
  CHECK(ifaces[0].tx_packets == 800);
  CHECK(ifaces[1].rx_dropped == 9);
  CHECK(ifaces[1].tx_dropped == 11);
  CHECK(ifaces[1].name == "net1");
  CHECK(ifaces[1].tx_bytes == 7);
}

TEST_CASE("net/dev: truncated or empty text gives what parses") {
  CHECK(stats::parse_net_dev("").empty());
  CHECK(stats::parse_net_dev("  eth0: 1 2 3\n").empty());
}

TEST_CASE("net/dev: this thread's namespace reads without entering another") {
  auto own = stats::network_usage("");
  REQUIRE(own);
  auto missing = stats::network_usage("/nonexistent/netns");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message(), Catch::Contains("/nonexistent/netns"));
}
