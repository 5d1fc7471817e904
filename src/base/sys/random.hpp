#pragma once
// Random bytes from the kernel (getrandom(2)), for ids, tokens, temp names
// and WebSocket masks.
//
// getrandom with flags 0 blocks only until the entropy pool is first
// ready (early boot), is retried on EINTR and on a short read, and has no
// other failure on a supported kernel (ENOSYS before Linux 3.17, EFAULT
// for a bad buffer). Such a failure aborts the process with a message on
// stderr rather than hand out guessable bytes.

#include <cstddef>
#include <span>
#include <string>

namespace ringcri::sys {

// Fills `out`. Allocates nothing and never throws: usable in a callback
// that must not fail (wslay's mask generator).
void random_bytes(std::span<std::byte> out) noexcept;

// `bytes` random bytes as 2 * `bytes` lowercase hex digits.
std::string random_hex(std::size_t bytes);

}  // namespace ringcri::sys
