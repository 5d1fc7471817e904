#include "net/nft/transaction.hpp"

#include <libnftnl/common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

namespace ringcri::net::nft {

namespace {

// Room for any one table, chain, set or rule message made here (a rule of
// a dozen expressions is well under 1 KiB), and per set element (a key,
// data and a comment of at most 128 bytes).
constexpr std::size_t object_message_size = 4096;
constexpr std::size_t element_message_size = 512;

std::size_t element_count(nftnl_set* s) {
  std::size_t n = 0;
  nftnl_set_elem_foreach(
      s, [](nftnl_set_elem*, void* count) { return ++*static_cast<std::size_t*>(count), 0; }, &n);
  return n;
}

}  // namespace

table_ptr make_table(std::uint16_t family, const std::string& name) {
  table_ptr t(nftnl_table_alloc());
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, family);
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  return t;
}

chain_ptr make_chain(std::uint16_t family, const std::string& table, const std::string& name) {
  chain_ptr c(nftnl_chain_alloc());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, family);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, name.c_str());
  return c;
}

set_ptr make_set(std::uint16_t family, const std::string& table, const std::string& name) {
  set_ptr s(nftnl_set_alloc());
  nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, family);
  nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(s.get(), NFTNL_SET_NAME, name.c_str());
  return s;
}

rule_ptr make_rule(std::uint16_t family, const std::string& table, const std::string& chain) {
  rule_ptr r(nftnl_rule_alloc());
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, family);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain.c_str());
  return r;
}

nftnl_expr* add_expr(nftnl_rule* rule, const char* kind) {
  nftnl_expr* e = nftnl_expr_alloc(kind);
  nftnl_rule_add_expr(rule, e);  // the rule owns it from here
  return e;
}

transaction::transaction(std::uint16_t family) : family_(family) {}

void transaction::add(const nftnl_table* t, std::uint16_t flags, std::string what) {
  auto m = netlink::message::raw(object_message_size, std::move(what));
  nlmsghdr* h = nftnl_table_nlmsg_build_hdr(m.raw_buffer(), NFT_MSG_NEWTABLE, family_,
                                            NLM_F_ACK | flags, 0);
  nftnl_table_nlmsg_build_payload(h, t);
  requests_.push_back(std::move(m));
}

void transaction::add(const nftnl_chain* c, std::uint16_t flags, std::string what) {
  auto m = netlink::message::raw(object_message_size, std::move(what));
  nlmsghdr* h = nftnl_chain_nlmsg_build_hdr(m.raw_buffer(), NFT_MSG_NEWCHAIN, family_,
                                            NLM_F_ACK | flags, 0);
  nftnl_chain_nlmsg_build_payload(h, c);
  requests_.push_back(std::move(m));
}

void transaction::add(nftnl_set* s, std::uint16_t flags, std::string what) {
  auto m = netlink::message::raw(object_message_size, std::move(what));
  nlmsghdr* h =
      nftnl_set_nlmsg_build_hdr(m.raw_buffer(), NFT_MSG_NEWSET, family_, NLM_F_ACK | flags, 0);
  nftnl_set_nlmsg_build_payload(h, s);
  requests_.push_back(std::move(m));
}

void transaction::add(nftnl_rule* r, std::string what) {
  auto m = netlink::message::raw(object_message_size, std::move(what));
  nlmsghdr* h = nftnl_rule_nlmsg_build_hdr(m.raw_buffer(), NFT_MSG_NEWRULE, family_,
                                           NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, 0);
  nftnl_rule_nlmsg_build_payload(h, r);
  requests_.push_back(std::move(m));
}

void transaction::elements(std::uint16_t msg_type, nftnl_set* s, std::uint16_t flags,
                           std::string what) {
  auto m = netlink::message::raw(object_message_size + element_message_size * element_count(s), std::move(what));
  nlmsghdr* h =
      nftnl_set_elem_nlmsg_build_hdr(m.raw_buffer(), msg_type, family_, NLM_F_ACK | flags, 0);
  nftnl_set_elems_nlmsg_build_payload(h, s);
  requests_.push_back(std::move(m));
}

reactor::task<result<void>> transaction::commit(netlink::socket& nf) {
  if (requests_.empty()) co_return result<void>{};
  std::vector<netlink::message> batch;
  batch.reserve(requests_.size() + 2);
  batch.push_back(netlink::message::raw(NLMSG_HDRLEN + sizeof(nfgenmsg) + 16, "begin an nftables transaction"));
  nftnl_batch_begin(batch.back().raw_buffer(), 0);
  for (auto& m : requests_) batch.push_back(std::move(m));
  requests_.clear();
  batch.push_back(netlink::message::raw(NLMSG_HDRLEN + sizeof(nfgenmsg) + 16, "end an nftables transaction"));
  nftnl_batch_end(batch.back().raw_buffer(), 0);
  co_return co_await nf.run(batch);
}

netlink::message get_table(std::uint16_t family, const std::string& name) {
  auto m = netlink::message::raw(object_message_size, "get table " + name);
  nlmsghdr* h =
      nftnl_table_nlmsg_build_hdr(m.raw_buffer(), NFT_MSG_GETTABLE, family, NLM_F_ACK, 0);
  nftnl_table_nlmsg_build_payload(h, make_table(family, name).get());
  return m;
}

netlink::message get_chain(std::uint16_t family, const std::string& table, const std::string& name) {
  auto m = netlink::message::raw(object_message_size, "get chain " + name);
  nlmsghdr* h =
      nftnl_chain_nlmsg_build_hdr(m.raw_buffer(), NFT_MSG_GETCHAIN, family, NLM_F_ACK, 0);
  nftnl_chain_nlmsg_build_payload(h, make_chain(family, table, name).get());
  return m;
}

netlink::message dump_elements(std::uint16_t family, const std::string& table, const std::string& set) {
  auto m = netlink::message::raw(object_message_size, "list the elements of set " + set);
  nlmsghdr* h = nftnl_set_elem_nlmsg_build_hdr(m.raw_buffer(), NFT_MSG_GETSETELEM, family,
                                               NLM_F_DUMP | NLM_F_ACK, 0);
  nftnl_set_elems_nlmsg_build_payload(h, make_set(family, table, set).get());
  return m;
}

}  // namespace ringcri::net::nft
