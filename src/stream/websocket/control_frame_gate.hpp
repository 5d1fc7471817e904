#pragma once
// control_frame_gate: hands wslay each control frame (close, ping, pong)
// in one read. wslay checks a close reason's UTF-8 per read, starting two
// bytes into every piece, so a reason split across reads was checked from
// the wrong offsets: a valid reason could be refused with 1007 and an
// invalid one let through until the frame ended. Holding back the few
// bytes of an unfinished control frame (at most 131) or frame header until
// the rest arrives makes wslay see the same frames whatever the reads.
//
//   auto ready = gate.admit(bytes);  // give `ready` to wslay now

#include <cstdint>
#include <string>
#include <string_view>

namespace ringcri::stream::websocket {

class control_frame_gate {
 public:
  // The next bytes read from the peer; returns those wslay may read now.
  // The view lives until the next call.
  std::string_view admit(std::string_view bytes);

 private:
  std::string held_;                // an unfinished header or control frame
  std::string joined_;              // held_ and the new bytes, when both
  std::uint64_t payload_left_ = 0;  // of the data frame being passed through
  bool opaque_ = false;             // a malformed header went by: wslay refuses it
};

}  // namespace ringcri::stream::websocket
