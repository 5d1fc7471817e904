// The request head a streaming connection starts with
// (stream/http_request_head, over http-parser). Fed as the reader on the
// reactor feeds it (up to 4 KiB a read) or in small pieces, the same
// request comes out with the same bytes left over, or both are refused.

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "stream/http_request_head.hpp"

using namespace ringcri;
using namespace ringcri::stream;

namespace {

struct outcome {
  bool complete = false;
  bool failed = false;
  http_request request;
  std::string rest;
  std::size_t head_end = 0;  // where the head ended in the whole input
};

outcome parse(const std::vector<std::string_view>& pieces) {
  http_request_parser parser;
  outcome o;
  std::size_t offset = 0;
  for (auto piece : pieces) {
    auto done = parser.feed(piece, o.rest);
    if (!done) {
      o.failed = true;
      FUZZ_CHECK(done.error().kind() == error_kind::invalid_argument ||
                 done.error().kind() == error_kind::resource_exhausted);
      return o;
    }
    if (*done) {
      o.complete = true;
      FUZZ_CHECK(o.rest.size() <= piece.size());
      FUZZ_CHECK(piece.ends_with(o.rest));
      o.head_end = offset + piece.size() - o.rest.size();
      o.request = parser.take_request();
      return o;
    }
    FUZZ_CHECK(o.rest.empty());
    offset += piece.size();
  }
  return o;
}

std::vector<std::string_view> reads_of(std::string_view input) {
  std::vector<std::string_view> out;
  for (std::size_t at = 0; at < input.size(); at += 4096) out.push_back(input.substr(at, 4096));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = fuzz::as_text(data, size);
  outcome reads = parse(reads_of(input));
  outcome pieces = parse(fuzz::pieces_of(input));
  FUZZ_CHECK(reads.failed == pieces.failed);
  FUZZ_CHECK(reads.complete == pieces.complete);
  if (!reads.complete) return 0;
  const http_request& a = reads.request;
  const http_request& b = pieces.request;
  FUZZ_CHECK(a.method == b.method && a.path == b.path && a.query == b.query);
  FUZZ_CHECK(a.headers == b.headers);
  FUZZ_CHECK(reads.head_end == pieces.head_end);
  for (const auto& [name, value] : a.headers)
    for (char c : name) FUZZ_CHECK(c < 'A' || c > 'Z');
  // What the upgrade and the session handlers ask of it.
  (void)a.header("upgrade");
  (void)a.header_list("connection");
  (void)a.header_has_token("connection", "upgrade");
  (void)a.header_values("x-stream-protocol-version");
  (void)a.query_values("port");
  (void)a.query_values("command");
  return 0;
}
