// host-local's ranges and config as the daemon reads them: the defaults
// (rangeStart, rangeEnd, gateway), the refusals (a /31, host bits set,
// overlaps, mixed families), old-style and list-style ranges, and IPv6
// addresses written exactly as Go writes them (they name host-local's
// files).

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "net/ipam/config.hpp"

namespace ipam = ringcri::net::ipam;
namespace ip = ringcri::net::ip;
using nlohmann::json;

namespace {

std::string go_text(const char* address) {
  auto a = ip::address::parse(address);
  REQUIRE(a);
  return a->to_string();
}

}  // namespace

TEST_CASE("addresses are written as Go's net.IP.String writes them") {
  CHECK(go_text("10.22.0.5") == "10.22.0.5");
  CHECK(go_text("fd00:0:0:0:0:0:0:5") == "fd00::5");
  CHECK(go_text("2001:db8:0:1:0:0:0:1") == "2001:db8:0:1::1");
  CHECK(go_text("1:0:0:1:0:0:1:1") == "1::1:0:0:1:1");     // the first of two equal runs
  CHECK(go_text("1:0:1:1:1:1:1:1") == "1:0:1:1:1:1:1:1");  // a single zero group stays
  CHECK(go_text("::1.2.3.4") == "::102:304");              // glibc would write ::1.2.3.4
  CHECK(go_text("FD00::ABCD") == "fd00::abcd");
  CHECK(go_text("::") == "::");
  CHECK(go_text("fd00::ff").size() == 8);
}

TEST_CASE("next and prev step across byte boundaries") {
  CHECK(ip::address::parse("10.0.0.255")->next().to_string() == "10.0.1.0");
  CHECK(ip::address::parse("10.0.1.0")->prev().to_string() == "10.0.0.255");
  CHECK(ip::address::parse("fd00::ffff")->next().to_string() == "fd00::1:0");
}

TEST_CASE("a range takes host-local's defaults") {
  ipam::range_spec spec;
  spec.subnet = "10.22.0.0/24";
  auto r = ipam::make_range(spec);
  REQUIRE(r);
  CHECK(r->start.to_string() == "10.22.0.1");
  CHECK(r->end.to_string() == "10.22.0.254");  // no broadcast
  CHECK(r->gateway.to_string() == "10.22.0.1");
  CHECK(r->to_string() == "10.22.0.1-10.22.0.254");

  spec.subnet = "fd00:22::/120";
  auto v6 = ipam::make_range(spec);
  REQUIRE(v6);
  CHECK(v6->end.to_string() == "fd00:22::ff");  // IPv6 has no broadcast

  spec.subnet = "10.22.0.0/24";
  spec.range_start = "10.22.0.100";
  spec.range_end = "10.22.0.110";
  spec.gateway = "10.22.0.254";
  auto narrow = ipam::make_range(spec);
  REQUIRE(narrow);
  CHECK(narrow->contains(*ip::address::parse("10.22.0.100")));
  CHECK(narrow->contains(*ip::address::parse("10.22.0.110")));
  CHECK_FALSE(narrow->contains(*ip::address::parse("10.22.0.111")));
  CHECK(narrow->gateway.to_string() == "10.22.0.254");
}

TEST_CASE("ranges host-local refuses are refused") {
  auto refused = [](ipam::range_spec spec, const char* words) {
    auto r = ipam::make_range(spec);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ringcri::error_kind::invalid_argument);
    CHECK_THAT(r.error().message(), Catch::Contains(words));
  };
  refused({"10.22.0.0/31", {}, {}, {}}, "too small");
  refused({"10.22.0.5/24", {}, {}, {}}, "host bits set");
  refused({"10.22.0.0/24", "10.23.0.1", {}, {}}, "rangeStart 10.23.0.1 not in network");
  refused({"10.22.0.0/24", "10.22.0.50", "10.22.0.40", {}}, "rangeEnd 10.22.0.40 not in network");
  refused({"nonsense", {}, {}, {}}, "invalid subnet");
}

TEST_CASE("a config's range sets: old style first, then ranges, checked like host-local") {
  auto config = ipam::parse_ipam_config(json::parse(R"({
    "name": "pods", "type": "bridge",
    "ipam": {"type": "host-local", "subnet": "10.30.0.0/24", "dataDir": "/tmp/x",
             "ranges": [[{"subnet": "10.31.0.0/24"}, {"subnet": "10.32.0.0/24"}],
                        [{"subnet": "fd00:30::/64", "rangestart": "fd00:30::10"}]]}})"));
  REQUIRE(config);
  CHECK(config->network == "pods");
  CHECK(config->data_dir == "/tmp/x");
  REQUIRE(config->ranges.size() == 3);
  CHECK(ipam::to_string(config->ranges[0]) == "10.30.0.1-10.30.0.254");
  CHECK(ipam::to_string(config->ranges[1]) == "10.31.0.1-10.31.0.254,10.32.0.1-10.32.0.254");
  // Key case does not matter, as in Go.
  CHECK(config->ranges[2][0].start.to_string() == "fd00:30::10");

  auto defaults = ipam::parse_ipam_config(
      json::parse(R"({"name": "n", "ipam": {"ranges": [[{"subnet": "10.30.0.0/24"}]]}})"));
  REQUIRE(defaults);
  CHECK(defaults->data_dir == "/var/lib/cni/networks");

  auto overlap = ipam::parse_ipam_config(json::parse(R"({"name": "n", "ipam": {"ranges": [
      [{"subnet": "10.30.0.0/24"}], [{"subnet": "10.30.0.0/25"}]]}})"));
  REQUIRE_FALSE(overlap);
  CHECK_THAT(overlap.error().message(), Catch::Contains("range set 0 overlaps with 1"));

  auto mixed = ipam::parse_ipam_config(json::parse(R"({"name": "n", "ipam": {"ranges": [
      [{"subnet": "10.30.0.0/24"}, {"subnet": "fd00::/64"}]]}})"));
  REQUIRE_FALSE(mixed);
  CHECK_THAT(mixed.error().message(), Catch::Contains("mixed address families"));

  auto none =
      ipam::parse_ipam_config(json::parse(R"({"name": "n", "ipam": {"type": "host-local"}})"));
  REQUIRE_FALSE(none);
  CHECK_THAT(none.error().message(), Catch::Contains("no IP ranges"));
}
