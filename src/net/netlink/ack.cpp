#include "net/netlink/ack.hpp"

#include <fmt/format.h>
#include <libmnl/libmnl.h>

#include <string>

namespace ringcri::net::netlink {

namespace {

struct ext_ack {
  std::string text;
};

int on_ack_attr(const nlattr* attr, void* data) {
  if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
      mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
    static_cast<ext_ack*>(data)->text = mnl_attr_get_str(attr);
  return MNL_CB_OK;
}

}  // namespace

std::optional<error> ack_error(const nlmsghdr* msg, std::string_view what) {
  if (msg->nlmsg_len < NLMSG_HDRLEN + sizeof(nlmsgerr))
    return error(error_kind::internal, fmt::format("{}: truncated netlink error message", what));
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(msg));
  if (err->error == 0) return std::nullopt;
  int sys_errno = -err->error;
  error e = error::from_errno(sys_errno, what);
  // The TLVs follow the echoed request: only its header when the socket
  // asked for NETLINK_CAP_ACK (NLM_F_CAPPED), the whole request otherwise.
  if (msg->nlmsg_flags & NLM_F_ACK_TLVS) {
    std::size_t offset = sizeof(nlmsgerr);
    if (!(msg->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
    ext_ack ack;
    if (NLMSG_HDRLEN + offset <= msg->nlmsg_len)
      mnl_attr_parse(msg, static_cast<unsigned>(offset), on_ack_attr, &ack);
    if (!ack.text.empty())
      e = error(e.kind(), fmt::format("{} ({})", e.message(), ack.text), sys_errno);
  }
  return e;
}

}  // namespace ringcri::net::netlink
