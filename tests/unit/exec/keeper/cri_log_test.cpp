// The CRI log format: exact bytes of full and partial lines, 16 KiB
// splitting, held tails, and independence from how the pipe chunked them.

#include "exec/keeper/cri_log.hpp"

#include <catch2/catch.hpp>
#include <string>

using ringcri::exec::keeper::cri_log_max_line;
using ringcri::exec::keeper::cri_log_stream;
using ringcri::exec::keeper::rfc3339_nano;

namespace {

const std::string ts = "2026-11-23T03:04:05.123456789Z";

std::string feed_all(cri_log_stream& s, std::string_view data) {
  std::string out;
  s.feed(data, ts, out);
  return out;
}

std::string line(std::string_view stream, char tag, std::string_view content) {
  return ts + " " + std::string(stream) + " " + tag + " " + std::string(content) + "\n";
}

}  // namespace

TEST_CASE("timestamps are RFC3339 in UTC with nine fraction digits") {
  CHECK(rfc3339_nano(0) == "1970-01-01T00:00:00.000000000Z");
  CHECK(rfc3339_nano(1795403045123456789) == "2026-11-23T03:04:05.123456789Z");
  CHECK(rfc3339_nano(1795403045000000007) == "2026-11-23T03:04:05.000000007Z");
}

TEST_CASE("full lines are written as F lines without their newline") {
  cri_log_stream s("stdout");
  CHECK(feed_all(s, "hello\nworld\n") ==
        line("stdout", 'F', "hello") + line("stdout", 'F', "world"));
  CHECK(s.held() == 0);
}

TEST_CASE("an empty line is an F line with no content") {
  cri_log_stream s("stderr");
  CHECK(feed_all(s, "\n") == ts + " stderr F \n");
}

TEST_CASE("an unterminated tail is held until its newline") {
  cri_log_stream s("stdout");
  CHECK(feed_all(s, "hel") == "");
  CHECK(s.held() == 3);
  CHECK(feed_all(s, "lo\nnext") == line("stdout", 'F', "hello"));
  CHECK(s.held() == 4);
  std::string out;
  s.finish(ts, out);
  CHECK(out == line("stdout", 'P', "next"));
  CHECK(s.held() == 0);
  std::string none;
  s.finish(ts, none);
  CHECK(none.empty());
}

TEST_CASE("a line longer than 16 KiB is written as 16 KiB P parts and then the rest") {
  cri_log_stream s("stdout");
  std::string a(cri_log_max_line, 'a');
  std::string b(cri_log_max_line, 'b');
  std::string c(10, 'c');
  CHECK(feed_all(s, a + b + c + "\n") ==
        line("stdout", 'P', a) + line("stdout", 'P', b) + line("stdout", 'F', c));
}

TEST_CASE("a line of exactly 16 KiB is one F line") {
  cri_log_stream s("stdout");
  std::string a(cri_log_max_line, 'a');
  CHECK(feed_all(s, a + "\n") == line("stdout", 'F', a));
}

TEST_CASE("a held tail longer than 16 KiB is written in P parts as it grows") {
  cri_log_stream s("stderr");
  std::string a(cri_log_max_line - 1, 'a');
  CHECK(feed_all(s, a) == "");
  // Two more bytes: the held 16 KiB goes out as P, one byte stays held.
  CHECK(feed_all(s, "xy") == line("stderr", 'P', a + "x"));
  CHECK(s.held() == 1);
  CHECK(feed_all(s, "\n") == line("stderr", 'F', "y"));
}

TEST_CASE("the split does not depend on how the bytes were chunked") {
  std::string text;
  text += "short\n";
  text += std::string(3 * cri_log_max_line + 17, 'x') + "\n";
  text += std::string(cri_log_max_line, 'y') + "\n";
  text += "\n";
  text += std::string(cri_log_max_line + 1, 'z') + "\n";
  text += "tail without newline";

  cri_log_stream whole("stdout");
  std::string expected = feed_all(whole, text);
  whole.finish(ts, expected);

  for (std::size_t chunk : {1UL, 7UL, 4096UL, 16383UL, 16384UL, 16385UL, 65536UL}) {
    cri_log_stream s("stdout");
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += chunk) {
      s.feed(std::string_view(text).substr(i, chunk), ts, out);
    }
    s.finish(ts, out);
    INFO("chunk " << chunk);
    CHECK(out == expected);
  }
  CHECK(expected.find(line("stdout", 'F', std::string(cri_log_max_line, 'y'))) !=
        std::string::npos);
  CHECK(expected.substr(expected.size() - line("stdout", 'P', "tail without newline").size()) ==
        line("stdout", 'P', "tail without newline"));
}
