#pragma once
// Name/value header blocks and their compression. Each direction of a
// connection is ONE zlib stream primed with the SPDY dictionary: every
// block is deflated into it and ends on a sync flush, so the peer inflates
// blocks in order with its own long-lived inflate stream. Losing a block
// desynchronises every later one, which is why a bad block drops the
// connection.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "stream/spdy/frame.hpp"

struct z_stream_s;

namespace ringcri::stream::spdy {

class header_deflater {
 public:
  header_deflater();

  // Appends the compressed block to `out`, names lowercased.
  void compress(const header_block& block, std::string& out);

 private:
  struct stream_end {
    void operator()(z_stream_s* stream) const;
  };
  std::unique_ptr<z_stream_s, stream_end> stream_;  // boxed: zlib keeps pointers to it
  std::string plain_;                               // reused between blocks
};

class header_inflater {
 public:
  header_inflater();

  // Inflates the next block of the connection and parses it. Fails on a
  // block that does not inflate, inflates past `max_size` bytes, or whose
  // counts and lengths do not match its bytes.
  result<header_block> decompress(std::string_view compressed, std::size_t max_size);

 private:
  struct stream_end {
    void operator()(z_stream_s* stream) const;
  };
  std::unique_ptr<z_stream_s, stream_end> stream_;
  std::string plain_;
};

}  // namespace ringcri::stream::spdy
