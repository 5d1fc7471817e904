#include "net/netlink/message.hpp"

namespace ringcri::net::netlink {

message::message(std::size_t size, std::string what)
    : buf_(new std::byte[size]()), capacity_(size), what_(std::move(what)) {}

message message::raw(std::size_t size, std::string what) { return message(size, std::move(what)); }

message::message(std::uint16_t type, std::uint16_t flags, std::string what)
    : message(default_capacity, std::move(what)) {
  nlmsghdr* h = mnl_nlmsg_put_header(buf_.get());
  h->nlmsg_type = type;
  h->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
}

bool message::room(std::size_t bytes) {
  if (!overflowed_ && header()->nlmsg_len + bytes <= capacity_) return true;
  overflowed_ = true;
  return false;
}

void message::put_u8(std::uint16_t type, std::uint8_t value) {
  if (!mnl_attr_put_u8_check(header(), capacity_, type, value)) overflowed_ = true;
}

void message::put_u32(std::uint16_t type, std::uint32_t value) {
  if (!mnl_attr_put_u32_check(header(), capacity_, type, value)) overflowed_ = true;
}

void message::put_strz(std::uint16_t type, const std::string& value) {
  if (!mnl_attr_put_strz_check(header(), capacity_, type, value.c_str())) overflowed_ = true;
}

void message::put_bytes(std::uint16_t type, std::span<const std::uint8_t> bytes) {
  if (!mnl_attr_put_check(header(), capacity_, type, bytes.size(), bytes.data())) overflowed_ = true;
}

nlattr* message::begin_nest(std::uint16_t type) {
  nlattr* nest = mnl_attr_nest_start_check(header(), capacity_, type);
  if (!nest) overflowed_ = true;
  return nest;
}

void message::end_nest(nlattr* nest) {
  if (nest && !overflowed_) mnl_attr_nest_end(header(), nest);
}

}  // namespace ringcri::net::netlink
