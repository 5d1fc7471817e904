#pragma once
// The fixed zlib dictionary that primes both directions' header compression
// (SPDY/3 section 2.6.10.1). 1423 bytes; a single wrong byte makes every
// header block unreadable to the peer.

#include <span>

namespace ringcri::stream::spdy {

std::span<const unsigned char> header_dictionary();

}  // namespace ringcri::stream::spdy
