#include "reactor/ring_probe.hpp"

#include <liburing.h>

#include <exception>

#include "reactor/reactor.hpp"

namespace ringcri::reactor {

namespace {

// Every opcode the reactor submits: ops.cpp's helpers and reactor.cpp's
// own (the wake-up read, timeouts, cancels). A new op goes here too.
constexpr struct {
  std::string_view name;
  unsigned opcode;
} used_opcodes[] = {
    {"NOP", IORING_OP_NOP},
    {"READV", IORING_OP_READV},
    {"WRITEV", IORING_OP_WRITEV},
    {"FSYNC", IORING_OP_FSYNC},
    {"POLL_ADD", IORING_OP_POLL_ADD},
    {"SENDMSG", IORING_OP_SENDMSG},
    {"RECVMSG", IORING_OP_RECVMSG},
    {"TIMEOUT", IORING_OP_TIMEOUT},
    {"ACCEPT", IORING_OP_ACCEPT},
    {"ASYNC_CANCEL", IORING_OP_ASYNC_CANCEL},
    {"LINK_TIMEOUT", IORING_OP_LINK_TIMEOUT},
    {"CONNECT", IORING_OP_CONNECT},
    {"OPENAT", IORING_OP_OPENAT},
    {"CLOSE", IORING_OP_CLOSE},
    {"STATX", IORING_OP_STATX},
    {"READ", IORING_OP_READ},
    {"WRITE", IORING_OP_WRITE},
    {"SEND", IORING_OP_SEND},
    {"RECV", IORING_OP_RECV},
    {"OPENAT2", IORING_OP_OPENAT2},
    {"SPLICE", IORING_OP_SPLICE},
    {"SHUTDOWN", IORING_OP_SHUTDOWN},
    {"RENAMEAT", IORING_OP_RENAMEAT},
    {"UNLINKAT", IORING_OP_UNLINKAT},
    {"MKDIRAT", IORING_OP_MKDIRAT},
    {"SYMLINKAT", IORING_OP_SYMLINKAT},
    {"LINKAT", IORING_OP_LINKAT},
    {"SOCKET", IORING_OP_SOCKET},
    {"WAITID", 50},  // newer than liburing 2.3's headers (ops.cpp)
};

}  // namespace

ring_support probe_ring() {
  ring_support out;
  try {
    reactor r;
    out.setup_flags = r.setup_flags();
    out.single_issuer = (out.setup_flags & IORING_SETUP_SINGLE_ISSUER) != 0;
  } catch (const std::exception& e) {
    out.error = e.what();
    return out;
  }
  io_uring_probe* probe = io_uring_get_probe();
  for (const auto& [name, opcode] : used_opcodes)
    out.opcodes.push_back(
        {name, opcode,
         probe != nullptr && io_uring_opcode_supported(probe, static_cast<int>(opcode))});
  if (probe != nullptr)
    io_uring_free_probe(probe);
  else
    out.error = "io_uring_get_probe failed: the kernel does not say which opcodes it has";
  return out;
}

std::string setup_flags_text(unsigned flags) {
  static constexpr struct {
    unsigned flag;
    const char* name;
  } known[] = {{IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER"},
               {IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN"},
               {IORING_SETUP_CQSIZE, "CQSIZE"}};
  std::string out;
  for (const auto& k : known) {
    if ((flags & k.flag) == 0) continue;
    if (!out.empty()) out += '|';
    out += k.name;
  }
  return out.empty() ? "none" : out;
}

}  // namespace ringcri::reactor
