#pragma once
// What of io_uring this kernel offers that the reactor relies on: a ring
// with the setup flags the reactor asks for, and every opcode it submits
// (ops.cpp, reactor.cpp). For `ringcri check`; the daemon itself finds out
// by making its rings.

#include <string>
#include <string_view>
#include <vector>

namespace ringcri::reactor {

struct opcode_support {
  std::string_view name;  // "READ", "WAITID"
  unsigned opcode = 0;
  bool supported = false;
};

struct ring_support {
  std::string error;           // why no ring could be made; empty when one was
  unsigned setup_flags = 0;    // the IORING_SETUP_* flags the kernel accepted
  bool single_issuer = false;  // SINGLE_ISSUER|DEFER_TASKRUN among them (Linux 6.1+)
  std::vector<opcode_support> opcodes;
};

// Makes a reactor's ring on the calling thread (which must have none) and
// asks the kernel which opcodes it supports (io_uring_get_probe).
ring_support probe_ring();

// "SINGLE_ISSUER|DEFER_TASKRUN|CQSIZE", or "none".
std::string setup_flags_text(unsigned flags);

}  // namespace ringcri::reactor
