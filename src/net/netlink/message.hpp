#pragma once
// message: one netlink request being built in a buffer of its own, and
// the words that name it in an error ("create veth veth1a2b3c4d"). An
// rtnetlink request is built here with libmnl and asks for an ACK; an
// nftables one is built into raw() by libnftnl (net/nft/). The socket
// stamps the sequence number when it sends it.
//
// Cost: one buffer per message, 1 KiB unless asked otherwise (an
// rtnetlink request for a link, an address or a route is a few hundred
// bytes at most, nested veth peer included), freed with the message.

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace ringcri::net::netlink {

class message {
 public:
  static constexpr std::size_t default_capacity = 1024;

  // A request of `type` (RTM_NEWLINK...) with `flags` besides NLM_F_REQUEST
  // and NLM_F_ACK, which every request carries.
  message(std::uint16_t type, std::uint16_t flags, std::string what);

  // An empty buffer of `size` bytes for a builder of its own to write a
  // whole message into (header included: it sets its own flags).
  static message raw(std::size_t size, std::string what);
  char* raw_buffer() { return reinterpret_cast<char*>(buf_.get()); }

  message(message&&) noexcept = default;
  message& operator=(message&&) noexcept = default;

  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.get()); }
  const nlmsghdr* header() const { return reinterpret_cast<const nlmsghdr*>(buf_.get()); }

  // A fixed header (ifinfomsg, ifaddrmsg, rtmsg), zeroed: after nlmsghdr,
  // or inside a nest that holds one (a veth's peer). A scratch one when
  // the message is full.
  template <class T>
  T* put_extra() {
    if (!room(MNL_ALIGN(sizeof(T)))) return &scratch_.emplace<T>();
    return static_cast<T*>(mnl_nlmsg_put_extra_header(header(), sizeof(T)));
  }

  // Attributes. Values that do not fit (a name far longer than the kernel
  // takes, from a config) mark the message too large instead of writing
  // past its buffer; the socket refuses to send it.
  void put_u8(std::uint16_t type, std::uint8_t value);
  void put_u32(std::uint16_t type, std::uint32_t value);
  void put_strz(std::uint16_t type, const std::string& value);
  void put_bytes(std::uint16_t type, std::span<const std::uint8_t> bytes);
  nlattr* begin_nest(std::uint16_t type);
  void end_nest(nlattr* nest);

  // False when something did not fit.
  bool complete() const { return !overflowed_; }

  // What the request does, for error messages.
  const std::string& what() const { return what_; }

 private:
  message(std::size_t size, std::string what);
  bool room(std::size_t bytes);

  std::unique_ptr<std::byte[]> buf_;
  std::size_t capacity_ = default_capacity;
  std::string what_;
  bool overflowed_ = false;
  // Where put_extra writes once the buffer is full.
  std::variant<std::monostate, ifinfomsg, ifaddrmsg, rtmsg> scratch_;
};

}  // namespace ringcri::net::netlink
