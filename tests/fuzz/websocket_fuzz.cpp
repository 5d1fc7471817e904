// WebSocket frames (stream/websocket/connection, over wslay) as the
// streaming server reads them from a client, and as the test client reads
// them from a server. Whole or in pieces, the server side takes the same
// messages and fails the same way; after a failure every feed fails. (The
// bytes it answers with may differ: wslay sends no pong for a ping that
// arrives in the same read as a close.)

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "stream/websocket/connection.hpp"

using namespace ringcri;
using namespace ringcri::stream::websocket;

namespace {

// Small enough that the limit is reached by fuzz inputs too.
constexpr std::size_t max_message = 1024;

struct outcome {
  std::string messages;
  std::string output;
  bool failed = false;
  bool closed = false;
};

outcome run(connection::role role, const std::vector<std::string_view>& pieces) {
  connection c(role, max_message);
  outcome o;
  for (auto piece : pieces) {
    auto fed = c.feed(piece);
    while (auto m = c.next_message()) {
      if (m->op != opcode::close) FUZZ_CHECK(m->payload.size() <= max_message);
      o.messages += std::to_string(static_cast<int>(m->op)) + ':' + std::to_string(m->close_code) +
                    ':' + m->payload + '\n';
    }
    o.output += c.take_output();
    if (!fed) {
      o.failed = true;
      FUZZ_CHECK(c.finished());
      FUZZ_CHECK(!c.feed("x"));  // stays failed
      break;
    }
  }
  // What the server does next on a live connection: answer, then close.
  c.send(opcode::binary, "reply");
  c.close(1000, "done");
  o.output += c.take_output();
  o.closed = c.close_sent();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = fuzz::as_text(data, size);
  outcome whole = run(connection::role::server, {input});
  outcome pieces = run(connection::role::server, fuzz::pieces_of(input));
  FUZZ_CHECK(whole.failed == pieces.failed);
  FUZZ_CHECK(whole.messages == pieces.messages);
  FUZZ_CHECK(whole.closed == pieces.closed);
  run(connection::role::client, {input});
  return 0;
}
