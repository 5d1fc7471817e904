// rtnetlink from the reactor, checked from outside with iproute2: in two
// network namespaces of the test's own (a "node" and a "pod"), a bridge and
// a veth pair whose peer is born in the pod, the port's master, hairpin
// and up, the bridge's promiscuous mode, MTUs, IPv4 and IPv6 addresses
// (no DAD wait) and routes (default via a gateway, on-link); then traffic
// pod -> node over them, IPv4 and IPv6, through the default route. Errors
// name the request and carry the errno text and the kernel's extended ack.
// Closing the namespaces' fds frees them with every link in them: nothing
// is left on the host. Needs root (exit 77).

#include "net/netlink/links.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "base/sys/network_namespace.hpp"
#include "net/netlink/addresses.hpp"
#include "net/netlink/netns.hpp"
#include "net/netlink/routes.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"
#include "support/io_checks.hpp"
#include "support/node_network.hpp"
#include "support/scratch_netns.hpp"
#include "support/skip.hpp"

namespace nl = ringcri::net::netlink;
namespace ip = ringcri::net::ip;
using nlohmann::json;
using ringcri::reactor::task;

namespace {

// A namespace of the test's own (support/scratch_netns.hpp) that can also
// make a socket inside (sockets keep the namespace they are born in).
struct scratch_netns : ringcri::testing::scratch_netns {
  int socket(int family, int type) const {
    int s = -1;
    auto entered = ringcri::sys::in_network_namespace(
        fd(), [&] { s = ::socket(family, type | SOCK_CLOEXEC, 0); });
    REQUIRE(entered);
    REQUIRE(s >= 0);
    return s;
  }
};

bool has(const json& list, const std::string& item) {
  for (const auto& x : list)
    if (x == item) return true;
  return false;
}

const json* address_of(const json& links, const std::string& local) {
  for (const auto& link : links)
    for (const auto& a : link.at("addr_info"))
      if (a.value("local", "") == local) return &a;
  return nullptr;
}

const json* route_to(const json& routes, const std::string& dst) {
  for (const auto& r : routes)
    if (r.value("dst", "") == dst) return &r;
  return nullptr;
}

ip::prefix prefix(const char* text) {
  auto p = ip::prefix::parse(text);
  REQUIRE(p);
  return *p;
}

// The node: bridge rcbr0 (MTU 1400, promiscuous, 10.123.0.1/24,
// fd00:123::1/64, and 10.200.0.1/32 reachable only through the pod's
// default route), port rcveth0 with hairpin. The pod: eth0 (MTU 1380),
// 10.123.0.5/24, fd00:123::5/64, default routes via the bridge, an on-link
// 10.124.0.0/16.
task<void> plumb(int node_ns, int pod_ns) {
  auto node = co_await nl::open_in_network_namespace(node_ns);
  REQUIRE(node);
  auto pod = co_await nl::open_in_network_namespace(pod_ns);
  REQUIRE(pod);

  std::vector<nl::message> links;
  links.push_back(nl::create_bridge("rcbr0", 1400));
  nl::veth_pair pair;
  pair.name = "rcveth0";
  pair.peer_name = "eth0";
  pair.peer_netns_fd = pod_ns;
  pair.mtu = 1400;
  links.push_back(nl::create_veth(pair));
  auto made = co_await node->run(links);
  REQUIRE(made);

  auto bridge = co_await nl::get_link(*node, nl::link_ref::by_name("rcbr0"));
  REQUIRE(bridge);
  CHECK(bridge->kind == "bridge");
  CHECK(bridge->mtu == 1400);
  auto veth = co_await nl::get_link(*node, nl::link_ref::by_name("rcveth0"));
  REQUIRE(veth);
  CHECK(veth->kind == "veth");
  CHECK(veth->master_index == 0);

  std::vector<nl::message> node_side;
  node_side.push_back(nl::set_master(nl::link_ref::by_index(veth->index), bridge->index));
  node_side.push_back(nl::set_hairpin(veth->index, true));
  node_side.push_back(nl::set_up(nl::link_ref::by_index(veth->index)));
  node_side.push_back(nl::set_up(nl::link_ref::by_name("rcbr0")));
  node_side.push_back(nl::set_promiscuous(nl::link_ref::by_index(bridge->index), true));
  node_side.push_back(nl::add_address(bridge->index, prefix("10.123.0.1/24")));
  node_side.push_back(nl::add_address(bridge->index, prefix("fd00:123::1/64")));
  node_side.push_back(nl::add_address(bridge->index, prefix("10.200.0.1/32")));
  auto node_done = co_await node->run(node_side);
  REQUIRE(node_done);
  auto port = co_await nl::get_link(*node, nl::link_ref::by_index(veth->index));
  REQUIRE(port);
  CHECK(port->master_index == bridge->index);

  // The pod's end is there already, born in its namespace.
  auto eth0 = co_await nl::get_link(*pod, nl::link_ref::by_name("eth0"));
  REQUIRE(eth0);
  std::vector<nl::message> pod_side;
  pod_side.push_back(nl::set_up(nl::link_ref::by_name("lo")));
  pod_side.push_back(nl::set_mtu(nl::link_ref::by_index(eth0->index), 1380));
  pod_side.push_back(nl::set_up(nl::link_ref::by_index(eth0->index)));
  pod_side.push_back(nl::add_address(eth0->index, prefix("10.123.0.5/24")));
  pod_side.push_back(nl::add_address(eth0->index, prefix("fd00:123::5/64")));
  pod_side.push_back(
      nl::add_route(nl::default_route(*ip::address::parse("10.123.0.1"), eth0->index)));
  pod_side.push_back(
      nl::add_route(nl::default_route(*ip::address::parse("fd00:123::1"), eth0->index)));
  nl::route on_link;
  on_link.destination = prefix("10.124.0.0/16");
  on_link.link_index = eth0->index;
  pod_side.push_back(nl::add_route(on_link));
  auto pod_done = co_await pod->run(pod_side);
  REQUIRE(pod_done);
}

// A TCP connection from the pod to `address` on the node, and one byte
// each way.
void connect_pod_to_node(const scratch_netns& node, const scratch_netns& pod, const char* address) {
  auto a = ip::address::parse(address);
  REQUIRE(a);
  sockaddr_storage ss{};
  socklen_t len;
  if (a->is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, a->bytes().data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, a->bytes().data(), 16);
    len = sizeof(sockaddr_in6);
  }
  int listener = node.socket(a->family(), SOCK_STREAM);
  // Binding succeeds only for an address that is not tentative: IPv6
  // without IFA_F_NODAD would refuse (EADDRNOTAVAIL) until DAD is done.
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&ss), len) == 0);
  REQUIRE(::listen(listener, 1) == 0);
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&ss), &len) == 0);

  int client = pod.socket(a->family(), SOCK_STREAM);
  timeval guard{10, 0};  // a route gone wrong fails the test instead of hanging it
  ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &guard, sizeof guard);
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
  INFO("connect to " << address);
  REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&ss), len) == 0);
  int served = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  REQUIRE(served >= 0);
  REQUIRE(::write(client, "p", 1) == 1);
  char c = 0;
  REQUIRE(::read(served, &c, 1) == 1);
  CHECK(c == 'p');
  for (int fd : {served, client, listener}) ::close(fd);
}

}  // namespace

TEST_CASE("a bridge and a veth pair into a pod, with addresses and routes, as iproute2 sees them") {
  scratch_netns node, pod;
  ringcri::reactor::reactor r;
  r.block_on(plumb(node.fd(), pod.fd()));

  auto br = node.ip("-d link show dev rcbr0").at(0);
  CHECK(br.at("mtu") == 1400);
  CHECK(has(br.at("flags"), "UP"));
  CHECK(has(br.at("flags"), "PROMISC"));
  CHECK(br.at("linkinfo").at("info_kind") == "bridge");

  auto port = node.ip("-d link show dev rcveth0").at(0);
  CHECK(port.at("master") == "rcbr0");
  CHECK(port.at("mtu") == 1400);
  CHECK(has(port.at("flags"), "UP"));
  CHECK(port.at("linkinfo").at("info_kind") == "veth");
  CHECK(port.at("linkinfo").at("info_slave_kind") == "bridge");
  CHECK(port.at("linkinfo").at("info_slave_data").at("hairpin") == true);
  // The peer was made in the pod, never in the node.
  for (const auto& link : node.ip("link show")) CHECK(link.at("ifname") != "eth0");

  auto node_addrs = node.ip("addr show dev rcbr0");
  const json* v4 = address_of(node_addrs, "10.123.0.1");
  REQUIRE(v4);
  CHECK(v4->at("prefixlen") == 24);
  CHECK(v4->at("broadcast") == "10.123.0.255");
  const json* v6 = address_of(node_addrs, "fd00:123::1");
  REQUIRE(v6);
  CHECK(v6->at("prefixlen") == 64);
  CHECK(v6->value("nodad", false) == true);
  CHECK(v6->value("tentative", false) == false);

  auto eth0 = pod.ip("-d link show dev eth0").at(0);
  CHECK(eth0.at("mtu") == 1380);
  CHECK(has(eth0.at("flags"), "UP"));
  CHECK(eth0.at("linkinfo").at("info_kind") == "veth");
  CHECK(has(pod.ip("link show dev lo").at(0).at("flags"), "UP"));

  auto pod_addrs = pod.ip("addr show dev eth0");
  REQUIRE(address_of(pod_addrs, "10.123.0.5"));
  CHECK(address_of(pod_addrs, "10.123.0.5")->at("prefixlen") == 24);
  REQUIRE(address_of(pod_addrs, "fd00:123::5"));
  CHECK(address_of(pod_addrs, "fd00:123::5")->value("tentative", false) == false);

  auto routes = pod.ip("route show");
  const json* def = route_to(routes, "default");
  REQUIRE(def);
  CHECK(def->at("gateway") == "10.123.0.1");
  CHECK(def->at("dev") == "eth0");
  const json* link_route = route_to(routes, "10.124.0.0/16");
  REQUIRE(link_route);
  CHECK(link_route->at("dev") == "eth0");
  CHECK(link_route->at("scope") == "link");
  CHECK_FALSE(link_route->contains("gateway"));
  auto routes6 = pod.ip("-6 route show");
  const json* def6 = route_to(routes6, "default");
  REQUIRE(def6);
  CHECK(def6->at("gateway") == "fd00:123::1");

  // And the plumbing carries traffic: on the subnet, over IPv6 at once
  // (no DAD), and off the subnet through the default route.
  connect_pod_to_node(node, pod, "10.123.0.1");
  connect_pod_to_node(node, pod, "fd00:123::1");
  connect_pod_to_node(node, pod, "10.200.0.1");
}

TEST_CASE("errors name the request, with the errno text and the kernel's own words") {
  scratch_netns node, pod;
  ringcri::reactor::reactor r;
  r.block_on(plumb(node.fd(), pod.fd()));

  r.block_on([](int node_ns) -> task<void> {
    auto node = co_await nl::open_in_network_namespace(node_ns);
    REQUIRE(node);

    nl::veth_pair again;
    again.name = "rcveth0";
    again.peer_name = "rcpeer0";
    auto dup = co_await node->run(nl::create_veth(again));
    REQUIRE_FALSE(dup);
    CHECK(dup.error().kind() == ringcri::error_kind::already_exists);
    CHECK(dup.error().sys_errno() == EEXIST);
    CHECK_THAT(dup.error().message(), Catch::StartsWith("create veth rcveth0: File exists"));

    // The kernel goes on past a failed request of a batch; the error is
    // the first failure's.
    std::vector<nl::message> batch;
    batch.push_back(nl::create_bridge("rcbr1"));
    batch.push_back(nl::create_bridge("rcbr0"));
    batch.push_back(nl::set_up(nl::link_ref::by_name("rcbr1")));
    batch.push_back(nl::create_bridge("rcbr1"));
    auto partly = co_await node->run(batch);
    REQUIRE_FALSE(partly);
    CHECK_THAT(partly.error().message(), Catch::StartsWith("create bridge rcbr0: File exists"));

    // A name from a config far past what the kernel takes never overruns
    // the request's buffer.
    auto huge = co_await node->run(nl::create_bridge(std::string(2000, 'b')));
    REQUIRE_FALSE(huge);
    CHECK(huge.error().kind() == ringcri::error_kind::invalid_argument);
    CHECK_THAT(huge.error().message(), Catch::EndsWith(": the request is too large"));

    auto missing = co_await nl::get_link(*node, nl::link_ref::by_name("nosuch0"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind() == ringcri::error_kind::not_found);
    CHECK_THAT(missing.error().message(), Catch::Contains("link nosuch0"));

    // A gateway no address of the node reaches: the kernel says why in
    // its extended ack.
    auto bridge = co_await nl::get_link(*node, nl::link_ref::by_name("rcbr0"));
    REQUIRE(bridge);
    auto unreachable = co_await node->run(
        nl::add_route(nl::default_route(*ip::address::parse("192.0.2.1"), bridge->index)));
    REQUIRE_FALSE(unreachable);
    INFO(unreachable.error().message());
    CHECK_THAT(unreachable.error().message(),
               Catch::StartsWith("add route 0.0.0.0/0 via 192.0.2.1"));
    CHECK_THAT(unreachable.error().message(),
               Catch::Contains(": Network is unreachable (Nexthop has invalid gateway)"));

    // Deleting the node's end takes the pod's with it.
    auto deleted = co_await node->run(nl::delete_link(nl::link_ref::by_name("rcveth0")));
    REQUIRE(deleted);
  }(node.fd()));

  CHECK(has(node.ip("link show dev rcbr1").at(0).at("flags"), "UP"));
  for (const auto& link : node.ip("link show")) CHECK(link.at("ifname") != "rcveth0");
  for (const auto& link : pod.ip("link show")) CHECK(link.at("ifname") != "eth0");
}

TEST_CASE("coroutines sharing one socket take turns and each gets its own answer") {
  scratch_netns node;
  ringcri::reactor::reactor r;
  r.block_on([](int node_ns) -> task<void> {
    auto node = co_await nl::open_in_network_namespace(node_ns);
    REQUIRE(node);
    auto make = [](nl::socket& s, std::string name) -> task<ringcri::result<nl::link_info>> {
      auto made = co_await s.run(nl::create_bridge(name));
      if (!made) co_return tl::unexpected(made.error());
      co_return co_await nl::get_link(s, nl::link_ref::by_name(name));
    };
    auto [a, b, lo] =
        co_await ringcri::reactor::when_all(make(*node, "rcbra"), make(*node, "rcbrb"),
                                            nl::get_link(*node, nl::link_ref::by_name("lo")));
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(lo);
    CHECK(a->name == "rcbra");
    CHECK(b->name == "rcbrb");
    CHECK(lo->name == "lo");
    CHECK(a->index != b->index);
  }(node.fd()));
  CHECK(node.ip("link show dev rcbra").at(0).at("ifname") == "rcbra");
  CHECK(node.ip("link show dev rcbrb").at(0).at("ifname") == "rcbrb");
}
