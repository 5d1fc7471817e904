#pragma once
// Writes frames for one direction of a SPDY/3.1 connection. Sans-I/O: the
// caller sends the bytes over whatever transport it has. The encoder owns
// that direction's header compression stream, so frames must go on the
// wire in the order they were encoded.

#include <string>

#include "stream/spdy/frame.hpp"
#include "stream/spdy/header_compression.hpp"

namespace ringcri::stream::spdy {

class encoder {
 public:
  encoder();
  ~encoder();
  encoder(encoder&&) noexcept;
  encoder& operator=(encoder&&) noexcept;

  // Appends the wire bytes of `f` to `out`. A data payload longer than a
  // frame can carry (16 MiB - 1) goes out as several frames, FIN on the last.
  void encode(const frame& f, std::string& out);

 private:
  header_deflater deflater_;
};

}  // namespace ringcri::stream::spdy
