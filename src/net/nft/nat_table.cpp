#include "net/nft/nat_table.hpp"

#include <fmt/format.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>

#include <array>
#include <cstring>
#include <functional>
#include <span>

#include "net/netlink/netns.hpp"
#include "net/nft/transaction.hpp"

namespace ringcri::net::nft {

namespace {

using bytes = std::vector<std::uint8_t>;

// nft's type numbers, so `nft list` shows the elements as addresses,
// protocols and ports; a concatenation's type is its parts' shifted in.
constexpr std::uint32_t type_ipv4 = 7, type_ipv6 = 8, type_protocol = 12, type_port = 13;
constexpr std::uint32_t concat(std::uint32_t a, std::uint32_t b) { return a << 6 | b; }

struct set_layout {
  const char* name;
  std::uint32_t id;  // names the set to rules of the transaction that makes it
  std::uint32_t key_type, key_len;
  std::optional<std::uint32_t> data_type;  // a map's
  std::uint32_t data_len;
};

// One of the two tables, `ip ringcri` and `ip6 ringcri`: the same sets,
// chains and rules over the family's addresses.
struct family {
  std::uint16_t nfproto;
  const char* name;  // as nft names it
  std::uint32_t address_len, saddr_offset, daddr_offset;
  const char* multicast;
  set_layout masquerade, host_ports, host_ports_on_ip, clients;
};

constexpr family make_family(std::uint16_t nfproto, const char* name, std::uint32_t address_type,
                             std::uint32_t address_len, std::uint32_t saddr_offset,
                             std::uint32_t daddr_offset, const char* multicast) {
  // A concatenation's parts are each padded to 4 bytes.
  return family{nfproto, name, address_len, saddr_offset, daddr_offset, multicast,
                set_layout{"masquerade", 1, address_type, address_len, NFT_DATA_VERDICT, 0},
                set_layout{"host_ports", 2, concat(type_protocol, type_port), 8,
                           concat(address_type, type_port), address_len + 4},
                set_layout{"host_ports_on_ip", 3,
                           concat(concat(address_type, type_protocol), type_port), address_len + 8,
                           concat(address_type, type_port), address_len + 4},
                set_layout{"host_port_clients", 4, address_type, address_len, std::nullopt, 0}};
}

constexpr family ipv4 = make_family(NFPROTO_IPV4, "ip", type_ipv4, 4, 12, 16, "224.0.0.0/4");
constexpr family ipv6 = make_family(NFPROTO_IPV6, "ip6", type_ipv6, 16, 8, 24, "ff00::/8");
constexpr const family* families[] = {&ipv4, &ipv6};

const family& family_of(const ip::address& a) { return a.is_v4() ? ipv4 : ipv6; }

std::vector<const set_layout*> sets_of(const family& f, share which) {
  if (which == share::masquerade) return {&f.masquerade};
  if (which == share::host_ports) return {&f.host_ports, &f.host_ports_on_ip, &f.clients};
  return {&f.masquerade, &f.host_ports, &f.host_ports_on_ip, &f.clients};
}

bool is_errno(const error& e, int sys_errno) { return e.sys_errno() == sys_errno; }

// --- rules -----------------------------------------------------------------

void load_payload(nftnl_rule* r, std::uint32_t base, std::uint32_t offset, std::uint32_t len,
                  std::uint32_t dreg) {
  nftnl_expr* e = add_expr(r, "payload");
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}
void load_meta(nftnl_rule* r, std::uint32_t key, std::uint32_t dreg) {
  nftnl_expr* e = add_expr(r, "meta");
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
}
void compare(nftnl_rule* r, std::uint32_t op, std::span<const std::uint8_t> value) {
  nftnl_expr* e = add_expr(r, "cmp");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, value.data(), static_cast<std::uint32_t>(value.size()));
}
void mask(nftnl_rule* r, std::span<const std::uint8_t> bits) {
  const std::array<std::uint8_t, 16> zero{};
  nftnl_expr* e = add_expr(r, "bitwise");
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, static_cast<std::uint32_t>(bits.size()));
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, bits.data(), static_cast<std::uint32_t>(bits.size()));
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero.data(), static_cast<std::uint32_t>(bits.size()));
}
void verdict(nftnl_rule* r, int code, const char* chain = nullptr) {
  nftnl_expr* e = add_expr(r, "immediate");
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, static_cast<std::uint32_t>(code));
  if (chain) nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}
void lookup(nftnl_rule* r, const set_layout& set, std::optional<std::uint32_t> dreg) {
  nftnl_expr* e = add_expr(r, "lookup");
  nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
  if (dreg) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, *dreg);
  nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set.name);
  nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set.id);
}
void masquerade(nftnl_rule* r) { add_expr(r, "masq"); }

// ip daddr <prefix> (the destination, masked to the prefix's length)
void daddr_in(nftnl_rule* r, const family& f, const ip::prefix& p) {
  load_payload(r, NFT_PAYLOAD_NETWORK_HEADER, f.daddr_offset, f.address_len, NFT_REG_1);
  const std::array<std::uint8_t, 16> ones{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  mask(r, ip::address::from_bytes(std::span(ones.data(), f.address_len)).masked(p.length).bytes());
  compare(r, NFT_CMP_EQ, p.network().bytes());
}

// ct status dnat
void was_dnated(nftnl_rule* r) {
  nftnl_expr* e = add_expr(r, "ct");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  std::uint32_t dnat = IPS_DST_NAT, none = 0;
  mask(r, std::span(reinterpret_cast<const std::uint8_t*>(&dnat), 4));
  compare(r, NFT_CMP_NEQ, std::span(reinterpret_cast<const std::uint8_t*>(&none), 4));
}

// fib daddr type local jump dnat_host_ports
void local_destination_jump(nftnl_rule* r) {
  nftnl_expr* e = add_expr(r, "fib");
  nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
  nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
  nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
  std::uint32_t local = RTN_LOCAL;
  compare(r, NFT_CMP_EQ, std::span(reinterpret_cast<const std::uint8_t*>(&local), 4));
  verdict(r, NFT_JUMP, "dnat_host_ports");
}

// dnat to [ip daddr .] meta l4proto . th dport map @<set>
// The address fills the first 32-bit registers; the protocol and port
// follow, each in its own. The map's answer, address . port, lands the
// same way.
void dnat_through(nftnl_rule* r, const family& f, const set_layout& set, bool with_address) {
  const std::uint32_t after_address = NFT_REG32_00 + f.address_len / 4;
  std::uint32_t protocol_reg = NFT_REG_1, port_reg = NFT_REG32_01;
  if (with_address) {
    load_payload(r, NFT_PAYLOAD_NETWORK_HEADER, f.daddr_offset, f.address_len, NFT_REG_1);
    protocol_reg = after_address;
    port_reg = after_address + 1;
  }
  load_meta(r, NFT_META_L4PROTO, protocol_reg);
  load_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, port_reg);
  lookup(r, set, NFT_REG_1);
  nftnl_expr* e = add_expr(r, "nat");
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, f.nfproto);
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, after_address);
}

std::string masq_chain(const ip::prefix& subnet) {
  return "masq-" + ip::prefix{subnet.network(), subnet.length}.to_string();
}

// --- the table -------------------------------------------------------------

void add_set(transaction& t, const family& f, const set_layout& l) {
  set_ptr s = make_set(f.nfproto, nat_table, l.name);
  nftnl_set_set_u32(s.get(), NFTNL_SET_ID, l.id);
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, l.key_type);
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, l.key_len);
  if (l.data_type) {
    nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, NFT_SET_MAP);
    nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_TYPE, *l.data_type);
    if (l.data_len) nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_LEN, l.data_len);
  }
  t.add(s.get(), NLM_F_CREATE, fmt::format("add set {}", l.name));
}

void add_base_chain(transaction& t, const family& f, const char* name, std::uint32_t hook,
                    std::int32_t priority) {
  chain_ptr c = make_chain(f.nfproto, nat_table, name);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, hook);
  nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, priority);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, "nat");
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
  t.add(c.get(), NLM_F_CREATE, fmt::format("add chain {}", name));
}

template <class Build>
void add_rule(transaction& t, const family& f, const char* chain, Build build) {
  rule_ptr r = make_rule(f.nfproto, nat_table, chain);
  build(r.get());
  t.add(r.get(), fmt::format("add a rule to chain {}", chain));
}

// The whole table in one transaction; EEXIST when it is there already.
transaction table_layout(const family& f) {
  transaction t(f.nfproto);
  t.add(make_table(f.nfproto, nat_table).get(), NLM_F_CREATE | NLM_F_EXCL,
        fmt::format("add table {} {}", f.name, nat_table));
  for (const set_layout* l : sets_of(f, share::all)) add_set(t, f, *l);
  t.add(make_chain(f.nfproto, nat_table, "dnat_host_ports").get(), NLM_F_CREATE,
        "add chain dnat_host_ports");
  add_rule(t, f, "dnat_host_ports",
           [&](nftnl_rule* r) { dnat_through(r, f, f.host_ports_on_ip, true); });
  add_rule(t, f, "dnat_host_ports", [&](nftnl_rule* r) { dnat_through(r, f, f.host_ports, false); });
  add_base_chain(t, f, "prerouting", NF_INET_PRE_ROUTING, -100);
  add_base_chain(t, f, "output", NF_INET_LOCAL_OUT, -100);
  add_base_chain(t, f, "postrouting", NF_INET_POST_ROUTING, 100);
  add_rule(t, f, "prerouting", local_destination_jump);
  add_rule(t, f, "output", local_destination_jump);
  // Connections from 127/8 DNATed to a pod (route_localnet): IPv4 only,
  // as portmap does; ::1 is never routed off the host.
  if (f.nfproto == NFPROTO_IPV4)
    add_rule(t, f, "postrouting", [](nftnl_rule* r) {
      was_dnated(r);
      load_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 1, NFT_REG_1);
      const std::uint8_t loopback = 127;
      compare(r, NFT_CMP_EQ, std::span(&loopback, 1));
      masquerade(r);
    });
  add_rule(t, f, "postrouting", [&](nftnl_rule* r) {
    was_dnated(r);
    load_payload(r, NFT_PAYLOAD_NETWORK_HEADER, f.saddr_offset, f.address_len, NFT_REG_1);
    lookup(r, f.clients, std::nullopt);
    masquerade(r);
  });
  add_rule(t, f, "postrouting", [&](nftnl_rule* r) {
    load_payload(r, NFT_PAYLOAD_NETWORK_HEADER, f.saddr_offset, f.address_len, NFT_REG_1);
    lookup(r, f.masquerade, NFT_REG_VERDICT);
  });
  return t;
}

reactor::task<result<void>> ensure_table(netlink::socket& nf, const family& f) {
  netlink::message ask = get_table(f.nfproto, nat_table);
  std::function<void(const nlmsghdr*)> ignore = [](const nlmsghdr*) {};
  auto found = co_await nf.query(std::move(ask), std::move(ignore));
  if (found) co_return result<void>{};
  if (!is_errno(found.error(), ENOENT)) co_return tl::unexpected(std::move(found.error()));
  transaction t = table_layout(f);
  auto made = co_await t.commit(nf);
  if (!made && !is_errno(made.error(), EEXIST)) co_return tl::unexpected(std::move(made.error()));
  co_return result<void>{};
}

reactor::task<result<void>> ensure_masq_chain(netlink::socket& nf, const family& f,
                                              const ip::prefix& subnet) {
  const std::string name = masq_chain(subnet);
  netlink::message ask = get_chain(f.nfproto, nat_table, name);
  std::function<void(const nlmsghdr*)> ignore = [](const nlmsghdr*) {};
  auto found = co_await nf.query(std::move(ask), std::move(ignore));
  if (found) co_return result<void>{};
  if (!is_errno(found.error(), ENOENT)) co_return tl::unexpected(std::move(found.error()));
  transaction t(f.nfproto);
  t.add(make_chain(f.nfproto, nat_table, name).get(), NLM_F_CREATE | NLM_F_EXCL,
        fmt::format("add chain {}", name));
  add_rule(t, f, name.c_str(), [&](nftnl_rule* r) {
    daddr_in(r, f, subnet);
    verdict(r, NFT_RETURN);
  });
  add_rule(t, f, name.c_str(), [&](nftnl_rule* r) {
    daddr_in(r, f, *ip::prefix::parse(f.multicast));
    verdict(r, NFT_RETURN);
  });
  add_rule(t, f, name.c_str(), masquerade);
  auto made = co_await t.commit(nf);
  if (!made && !is_errno(made.error(), EEXIST)) co_return tl::unexpected(std::move(made.error()));
  co_return result<void>{};
}

// --- elements --------------------------------------------------------------

// The owner's tag as nft keeps an element's comment.
bytes owner_tag(const std::string& owner) {
  struct udata_free {
    void operator()(nftnl_udata_buf* b) const { nftnl_udata_buf_free(b); }
  };
  std::unique_ptr<nftnl_udata_buf, udata_free> buf(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
  std::string comment = owner.substr(0, NFTNL_UDATA_COMMENT_MAXLEN - 1);
  nftnl_udata_put_strz(buf.get(), NFTNL_UDATA_SET_ELEM_COMMENT, comment.c_str());
  auto* data = static_cast<const std::uint8_t*>(nftnl_udata_buf_data(buf.get()));
  return bytes(data, data + nftnl_udata_buf_len(buf.get()));
}

// An element of `s` with `key`, tagged with `tag` unless it is empty.
nftnl_set_elem* new_element(nftnl_set* s, const bytes& key, const bytes& tag) {
  nftnl_set_elem* e = nftnl_set_elem_alloc();
  nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key.data(), static_cast<std::uint32_t>(key.size()));
  if (!tag.empty())
    nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, tag.data(), static_cast<std::uint32_t>(tag.size()));
  nftnl_set_elem_add(s, e);  // the set owns it from here
  return e;
}

void append(bytes& out, std::span<const std::uint8_t> part, std::size_t padded_to = 4) {
  out.insert(out.end(), part.begin(), part.end());
  out.resize(out.size() + (padded_to - part.size() % padded_to) % padded_to, 0);
}
void append_port(bytes& out, std::uint16_t port) {
  const std::array<std::uint8_t, 2> be{static_cast<std::uint8_t>(port >> 8),
                                       static_cast<std::uint8_t>(port & 0xff)};
  append(out, be);
}

std::optional<std::uint8_t> protocol_number(const std::string& name) {
  if (name == "tcp") return 6;
  if (name == "udp") return 17;
  if (name == "sctp") return 132;
  return std::nullopt;
}

reactor::task<result<std::vector<bytes>>> owned_keys(netlink::socket& nf, const family& f,
                                                     const set_layout& l, const bytes& tag) {
  std::vector<bytes> keys;
  netlink::message ask = dump_elements(f.nfproto, nat_table, l.name);
  std::function<void(const nlmsghdr*)> collect = [&](const nlmsghdr* h) {
    set_ptr s(nftnl_set_alloc());
    if (nftnl_set_elems_nlmsg_parse(h, s.get()) < 0) return;
    struct walk {
      const bytes* tag;
      std::vector<bytes>* keys;
    } w{&tag, &keys};
    nftnl_set_elem_foreach(
        s.get(),
        [](nftnl_set_elem* e, void* data) {
          auto* w = static_cast<walk*>(data);
          std::uint32_t len = 0;
          const void* udata = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
          if (!udata || len != w->tag->size() || std::memcmp(udata, w->tag->data(), len) != 0)
            return 0;
          const void* key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
          if (key) {
            auto* k = static_cast<const std::uint8_t*>(key);
            w->keys->emplace_back(k, k + len);
          }
          return 0;
        },
        &w);
  };
  auto listed = co_await nf.query(std::move(ask), std::move(collect));
  if (!listed) {
    if (is_errno(listed.error(), ENOENT)) co_return keys;  // no table or set: nothing held
    co_return tl::unexpected(std::move(listed.error()));
  }
  co_return keys;
}

}  // namespace

reactor::task<result<connection>> open(int netns_fd) {
  if (netns_fd < 0) {
    thread_local std::optional<netlink::socket> shared;
    if (!shared) {
      auto made = netlink::socket::open(NETLINK_NETFILTER);
      if (!made) co_return tl::unexpected(std::move(made.error()));
      shared = std::move(*made);
    }
    co_return connection(&*shared);
  }
  auto own = co_await netlink::open_in_network_namespace(netns_fd, NETLINK_NETFILTER);
  if (!own) co_return tl::unexpected(std::move(own.error()));
  co_return connection(std::move(*own));
}

reactor::task<result<void>> add_masquerade(netlink::socket& nf, const std::string& owner,
                                           const ip::address& pod, const ip::prefix& subnet) {
  const family& f = family_of(pod);
  if (auto made = co_await ensure_table(nf, f); !made)
    co_return tl::unexpected(std::move(made.error()));
  if (auto made = co_await ensure_masq_chain(nf, f, subnet); !made)
    co_return tl::unexpected(std::move(made.error()));
  const std::string chain = masq_chain(subnet);
  set_ptr s = make_set(f.nfproto, nat_table, f.masquerade.name);
  nftnl_set_elem* e =
      new_element(s.get(), bytes(pod.bytes().begin(), pod.bytes().end()), owner_tag(owner));
  nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, static_cast<std::uint32_t>(NFT_JUMP));
  nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain.c_str());
  transaction t(f.nfproto);
  t.elements(NFT_MSG_NEWSETELEM, s.get(), NLM_F_CREATE,
             fmt::format("masquerade {} outside {}", pod.to_string(), subnet.to_string()));
  co_return co_await t.commit(nf);
}

reactor::task<result<void>> add_host_ports(netlink::socket& nf, const std::string& owner,
                                           const ip::address& pod,
                                           const std::vector<host_port>& ports, bool snat) {
  if (ports.empty() && !snat) co_return result<void>{};
  const family& f = family_of(pod);
  for (const host_port& p : ports)
    if (p.pod_ip.is_v4() != pod.is_v4() || (p.host_ip && p.host_ip->is_v4() != pod.is_v4()))
      co_return fail(error_kind::invalid_argument,
                     fmt::format("host port {}: the addresses are not all of {}'s family", p.port,
                                 pod.to_string()));
  if (auto made = co_await ensure_table(nf, f); !made)
    co_return tl::unexpected(std::move(made.error()));
  const bytes tag = owner_tag(owner);
  transaction t(f.nfproto);
  // One request per element, so that a host port another pod holds is
  // named by the error.
  for (const host_port& p : ports) {
    auto proto = protocol_number(p.protocol);
    if (!proto)
      co_return fail(error_kind::invalid_argument,
                     fmt::format("host port {}: unknown protocol \"{}\"", p.port, p.protocol));
    const set_layout& l = p.host_ip ? f.host_ports_on_ip : f.host_ports;
    bytes key;
    if (p.host_ip) append(key, p.host_ip->bytes());
    append(key, std::span(&*proto, 1));
    append_port(key, p.port);
    bytes data;
    append(data, p.pod_ip.bytes());
    append_port(data, p.pod_port);
    set_ptr s = make_set(f.nfproto, nat_table, l.name);
    nftnl_set_elem* e = new_element(s.get(), key, tag);
    nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data.data(), static_cast<std::uint32_t>(data.size()));
    t.elements(NFT_MSG_NEWSETELEM, s.get(), NLM_F_CREATE,
               fmt::format("map host port {}{}/{} to {}:{}",
                           p.host_ip ? p.host_ip->to_string() + ":" : "", p.port, p.protocol,
                           p.pod_ip.to_string(), p.pod_port));
  }
  if (snat) {
    set_ptr s = make_set(f.nfproto, nat_table, f.clients.name);
    new_element(s.get(), bytes(pod.bytes().begin(), pod.bytes().end()), tag);
    t.elements(NFT_MSG_NEWSETELEM, s.get(), NLM_F_CREATE,
               fmt::format("masquerade host port traffic of {}", pod.to_string()));
  }
  auto done = co_await t.commit(nf);
  if (!done && is_errno(done.error(), EEXIST))
    co_return tl::unexpected(error(error_kind::already_exists,
                                   done.error().message() + ": another pod holds the host port",
                                   EEXIST));
  co_return done;
}

reactor::task<result<void>> remove(netlink::socket& nf, const std::string& owner, share which) {
  const bytes tag = owner_tag(owner);
  for (const family* f : families) {
    transaction t(f->nfproto);
    for (const set_layout* l : sets_of(*f, which)) {
      auto keys = co_await owned_keys(nf, *f, *l, tag);
      if (!keys) co_return tl::unexpected(std::move(keys.error()));
      if (keys->empty()) continue;
      set_ptr s = make_set(f->nfproto, nat_table, l->name);
      for (const bytes& k : *keys) new_element(s.get(), k, {});
      t.elements(NFT_MSG_DELSETELEM, s.get(), 0,
                 fmt::format("delete {}'s elements of {} {}", owner, f->name, l->name));
    }
    if (auto done = co_await t.commit(nf); !done) co_return done;
  }
  co_return result<void>{};
}

reactor::task<result<std::size_t>> count(netlink::socket& nf, const std::string& owner,
                                         share which) {
  const bytes tag = owner_tag(owner);
  std::size_t n = 0;
  for (const family* f : families)
    for (const set_layout* l : sets_of(*f, which)) {
      auto keys = co_await owned_keys(nf, *f, *l, tag);
      if (!keys) co_return tl::unexpected(std::move(keys.error()));
      n += keys->size();
    }
  co_return n;
}

}  // namespace ringcri::net::nft
