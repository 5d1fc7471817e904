#pragma once
// nftables requests built with libnftnl into netlink messages: a
// transaction (the kernel applies all of its requests or none), and single
// queries. The objects (table, chain, set, rule, set elements) are
// libnftnl's, owned here by unique_ptrs; a caller builds them with
// libnftnl's setters and hands them over.
//
// A transaction is sent on a NETLINK_NETFILTER netlink::socket as one
// batch: its begin and end markers ask for no answer, every request in
// between for an ACK, so an error names the request that failed ("add
// chain masq-10.88.0.0/16: File exists").

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "net/netlink/message.hpp"
#include "net/netlink/socket.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::nft {

struct table_free {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};
struct chain_free {
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
};
struct set_free {
  void operator()(nftnl_set* s) const { nftnl_set_free(s); }
};
struct rule_free {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
using table_ptr = std::unique_ptr<nftnl_table, table_free>;
using chain_ptr = std::unique_ptr<nftnl_chain, chain_free>;
using set_ptr = std::unique_ptr<nftnl_set, set_free>;
using rule_ptr = std::unique_ptr<nftnl_rule, rule_free>;

table_ptr make_table(std::uint16_t family, const std::string& name);
chain_ptr make_chain(std::uint16_t family, const std::string& table, const std::string& name);
set_ptr make_set(std::uint16_t family, const std::string& table, const std::string& name);
rule_ptr make_rule(std::uint16_t family, const std::string& table, const std::string& chain);
// Adds a new expression of `kind` ("payload", "cmp", ...) to `rule` and
// returns it for its setters.
nftnl_expr* add_expr(nftnl_rule* rule, const char* kind);

class transaction {
 public:
  explicit transaction(std::uint16_t family);

  // `flags` besides NLM_F_REQUEST | NLM_F_ACK: NLM_F_CREATE, NLM_F_EXCL.
  void add(const nftnl_table* t, std::uint16_t flags, std::string what);
  void add(const nftnl_chain* c, std::uint16_t flags, std::string what);
  void add(nftnl_set* s, std::uint16_t flags, std::string what);
  void add(nftnl_rule* r, std::string what);
  // NFT_MSG_NEWSETELEM or NFT_MSG_DELSETELEM with the elements of `s`.
  void elements(std::uint16_t msg_type, nftnl_set* s, std::uint16_t flags, std::string what);

  // Sends the whole transaction and waits for every request's ACK.
  reactor::task<result<void>> commit(netlink::socket& nf);

 private:
  std::uint16_t family_;
  std::vector<netlink::message> requests_;
};

// A single request that is not part of a transaction (a get or a dump),
// for netlink::socket::query.
netlink::message get_table(std::uint16_t family, const std::string& name);
netlink::message get_chain(std::uint16_t family, const std::string& table, const std::string& name);
netlink::message dump_elements(std::uint16_t family, const std::string& table, const std::string& set);

}  // namespace ringcri::net::nft
