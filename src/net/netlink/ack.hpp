#pragma once
// The kernel's answer to one request: NLMSG_ERROR with error 0 is the ACK;
// any other error carries a negative errno and, with NETLINK_EXT_ACK on,
// the kernel's own sentence (the extended ack's NLMSGERR_ATTR_MSG, "Invalid
// prefix for given prefix length"). Both end up in one error naming the
// request: "create veth veth1a2b3c4d: File exists".

#include <linux/netlink.h>

#include <cstddef>
#include <optional>
#include <string_view>

#include "base/error.hpp"

namespace ringcri::net::netlink {

// `msg` is an NLMSG_ERROR message of `len` bytes as received. Nothing for
// an ACK; the error for a failure.
std::optional<error> ack_error(const nlmsghdr* msg, std::string_view what);

}  // namespace ringcri::net::netlink
