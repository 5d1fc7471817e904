// Input that must drop the connection, and input that must be skipped.

#include <zlib.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "stream/spdy/header_dictionary.hpp"
#include "frames.hpp"

namespace spdy = ringcri::stream::spdy;
using spdy::testing::drain;
using spdy::testing::from_hex;

namespace {

// A header block as the first one of a connection: `plain` deflated with
// the SPDY dictionary and a sync flush, whatever it holds.
std::string compress_first_block(const std::string& plain) {
  z_stream stream{};
  REQUIRE(deflateInit(&stream, Z_DEFAULT_COMPRESSION) == Z_OK);
  const auto dictionary = spdy::header_dictionary();
  REQUIRE(deflateSetDictionary(&stream, dictionary.data(), static_cast<uInt>(dictionary.size())) ==
          Z_OK);
  std::string out(plain.size() + 256, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  stream.avail_in = static_cast<uInt>(plain.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&stream, Z_SYNC_FLUSH) == Z_OK);
  out.resize(out.size() - stream.avail_out);
  deflateEnd(&stream);
  return out;
}

std::string u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// A SYN_REPLY for stream 1 around any header block bytes.
std::string syn_reply_around(const std::string& block) {
  return u32(0x80030002) + u32(static_cast<std::uint32_t>(4 + block.size())) + u32(1) + block;
}

std::string control_frame(std::uint16_t type, const std::string& body) {
  return u32(0x80030000u | type) + u32(static_cast<std::uint32_t>(body.size())) + body;
}

bool fails(const std::string& wire) {
  spdy::decoder dec;
  dec.feed(wire);
  return !dec.next().has_value();
}

}  // namespace

TEST_CASE("a control frame of another version fails") {
  std::string ping = from_hex("800300060000000400000007");
  REQUIRE_FALSE(fails(ping));
  ping[1] = 2;
  CHECK(fails(ping));
}

TEST_CASE("a wrong version fails before the frame's body arrives") {
  spdy::decoder dec;
  dec.feed(u32(0x80020001) + u32(1000));
  CHECK_FALSE(dec.next().has_value());
}

TEST_CASE("a decode error repeats on every later call") {
  spdy::decoder dec;
  dec.feed(from_hex("800200060000000400000007"));
  CHECK_FALSE(dec.next().has_value());
  dec.feed(from_hex("800300060000000400000007"));
  CHECK_FALSE(dec.next().has_value());
}

TEST_CASE("a header block that does not inflate fails") {
  spdy::encoder enc;
  std::string good;
  enc.encode(spdy::syn_reply{.stream_id = 1, .fin = false, .headers = {{"streamtype", "stdout"}}},
             good);
  const std::string block = good.substr(12);
  REQUIRE_FALSE(fails(syn_reply_around(block)));

  SECTION("garbage") { CHECK(fails(syn_reply_around("not a zlib stream at all"))); }
  SECTION("truncated") {
    CHECK(fails(syn_reply_around(block.substr(0, block.size() / 2))));
    CHECK(fails(syn_reply_around(block.substr(0, 2))));
  }
  SECTION("empty") { CHECK(fails(syn_reply_around(""))); }
  SECTION("zlib header of another dictionary") {
    std::string wrong = block;
    wrong[5] = static_cast<char>(wrong[5] ^ 0x55);  // inside the dictionary id
    CHECK(fails(syn_reply_around(wrong)));
  }
}

TEST_CASE("a header block whose counts and lengths lie fails") {
  const std::string pair = u32(4) + "port" + u32(2) + "80";
  REQUIRE_FALSE(fails(syn_reply_around(compress_first_block(u32(1) + pair))));
  CHECK(fails(syn_reply_around(compress_first_block(u32(2) + pair))));
  CHECK(fails(syn_reply_around(compress_first_block(u32(0xffffffff) + pair))));
  CHECK(fails(syn_reply_around(compress_first_block(u32(1) + u32(4) + "port" + u32(3) + "80"))));
  CHECK(fails(syn_reply_around(compress_first_block(u32(1) + pair + "extra"))));
  CHECK(fails(syn_reply_around(compress_first_block(u32(1) + u32(0x7fffffff) + "port"))));
}

TEST_CASE("a header block inflating past max_frame_size fails") {
  spdy::encoder enc;
  std::string wire;
  enc.encode(
      spdy::syn_stream{.stream_id = 1,
                       .associated_to = 0,
                       .priority = 0,
                       .fin = false,
                       .unidirectional = false,
                       .headers = {{"x-big", std::string(spdy::decoder::max_frame_size, 'a')}}},
      wire);
  REQUIRE(wire.size() < spdy::decoder::max_frame_size / 100);
  CHECK(fails(wire));
}

TEST_CASE("a header block of exactly max_frame_size decodes") {
  spdy::encoder enc;
  // count, name length, name, value length: 17 bytes around the value.
  const std::size_t value_size = spdy::decoder::max_frame_size - 17;
  std::string wire;
  enc.encode(
      spdy::syn_reply{
          .stream_id = 1, .fin = false, .headers = {{"x-big", std::string(value_size, 'a')}}},
      wire);
  spdy::decoder dec;
  dec.feed(wire);
  const auto frames = drain(dec);
  REQUIRE(frames.size() == 1);
  CHECK(std::get<spdy::syn_reply>(frames[0]).headers[0].second.size() == value_size);
}

TEST_CASE("fixed-size control frames of the wrong length fail") {
  CHECK(fails(control_frame(6, u32(7) + "x")));              // PING
  CHECK(fails(control_frame(3, u32(1))));                    // RST_STREAM
  CHECK(fails(control_frame(7, u32(1) + u32(0) + "x")));     // GOAWAY
  CHECK(fails(control_frame(9, u32(1))));                    // WINDOW_UPDATE
  CHECK(fails(control_frame(1, u32(1) + u32(0))));           // SYN_STREAM, no priority or block
  CHECK(fails(control_frame(2, "ab")));                      // SYN_REPLY
  CHECK(fails(control_frame(8, "")));                        // HEADERS
  CHECK(fails(control_frame(4, u32(2) + u32(7) + u32(1))));  // SETTINGS: 2 announced, 1 sent
  CHECK(fails(control_frame(4, u32(0) + "x")));
  CHECK_FALSE(fails(control_frame(4, u32(1) + u32(7) + u32(1))));
}

TEST_CASE("control frames of unknown types are skipped") {
  spdy::decoder dec;
  dec.feed(control_frame(5, "") + control_frame(10, std::string(100, '\x01')) +
           from_hex("800300060000000400000007") + control_frame(0xffff, "tail"));
  const auto frames = drain(dec);
  CHECK(frames == std::vector<spdy::frame>{spdy::ping{.id = 7}});
}

TEST_CASE("a partial frame waits for the rest") {
  const std::string ping = from_hex("800300060000000400000007");
  spdy::decoder dec;
  dec.feed(ping.substr(0, 9));
  auto first = dec.next();
  REQUIRE(first.has_value());
  CHECK_FALSE(first->has_value());
  dec.feed(ping.substr(9));
  CHECK(drain(dec) == std::vector<spdy::frame>{spdy::ping{.id = 7}});
}
