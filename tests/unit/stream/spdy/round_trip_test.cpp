// Frames through encoder -> decoder: every type, whole and byte by byte,
// with header blocks sharing one zlib stream per direction.

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "frames.hpp"

namespace spdy = ringcri::stream::spdy;
using spdy::testing::drain;
using spdy::testing::encode_all;

namespace {

std::vector<spdy::frame> every_frame_type() {
  return {
      spdy::syn_stream{.stream_id = 1,
                       .associated_to = 0,
                       .priority = 7,
                       .fin = false,
                       .unidirectional = true,
                       .headers = {{"streamtype", "error"}, {"port", "8080"}}},
      spdy::syn_reply{.stream_id = 1, .fin = false, .headers = {{"streamtype", "error"}}},
      spdy::headers{.stream_id = 1,
                    .fin = true,
                    .headers = {{"x-values", std::string("a\0b\0c", 5)}, {"empty", ""}}},
      spdy::rst_stream{.stream_id = 3, .status = spdy::rst_status::refused_stream},
      spdy::settings{
          .clear = true,
          .entries = {{.flags = 1, .id = spdy::settings_id::initial_window_size, .value = 1u << 20},
                      {.flags = 0, .id = spdy::settings_id::max_concurrent_streams, .value = 100}}},
      spdy::ping{.id = 0xfffffffe},
      spdy::goaway{.last_good_stream_id = 0x7fffffff,
                   .status = spdy::goaway_status::internal_error},
      spdy::window_update{.stream_id = 5, .delta = 0x7fffffff},
      spdy::data{.stream_id = 5, .fin = false, .payload = std::string("bin\0ary\xff", 8)},
      spdy::data{.stream_id = 5, .fin = true, .payload = ""},
      // Same names and values again: these blocks compress to references
      // into the earlier ones, readable only with the shared stream.
      spdy::syn_stream{.stream_id = 3,
                       .associated_to = 1,
                       .priority = 0,
                       .fin = true,
                       .unidirectional = false,
                       .headers = {{"streamtype", "error"}, {"port", "8080"}}},
      spdy::syn_reply{.stream_id = 3, .fin = true, .headers = {{"streamtype", "error"}}},
      spdy::headers{.stream_id = 3, .fin = false, .headers = {}},
  };
}

}  // namespace

TEST_CASE("every frame type survives a round trip in one piece") {
  spdy::encoder enc;
  spdy::decoder dec;
  const auto frames = every_frame_type();
  dec.feed(encode_all(enc, frames));
  CHECK(drain(dec) == frames);
}

TEST_CASE("every frame type survives a round trip fed byte by byte") {
  spdy::encoder enc;
  spdy::decoder dec;
  const auto frames = every_frame_type();
  const std::string wire = encode_all(enc, frames);
  std::vector<spdy::frame> decoded;
  for (char byte : wire) {
    dec.feed(std::string_view(&byte, 1));
    auto more = drain(dec);
    for (auto& f : more) decoded.push_back(std::move(f));
  }
  CHECK(decoded == frames);
}

TEST_CASE("frames fed in random pieces across many header blocks") {
  spdy::encoder enc;
  spdy::decoder dec;
  std::vector<spdy::frame> frames;
  for (std::uint32_t id = 1; id < 200; id += 2) {
    frames.push_back(spdy::syn_stream{.stream_id = id,
                                      .associated_to = 0,
                                      .priority = static_cast<std::uint8_t>(id % 8),
                                      .fin = false,
                                      .unidirectional = false,
                                      .headers = {{"streamtype", id % 4 == 1 ? "stdin" : "stdout"},
                                                  {"requestid", std::to_string(id)}}});
    frames.push_back(spdy::data{.stream_id = id, .fin = true, .payload = std::string(id, 'x')});
  }
  const std::string wire = encode_all(enc, frames);
  std::mt19937 random(42);
  std::vector<spdy::frame> decoded;
  for (std::size_t at = 0; at < wire.size();) {
    const std::size_t piece = std::uniform_int_distribution<std::size_t>(1, 300)(random);
    dec.feed(std::string_view(wire).substr(at, piece));
    at += piece;
    for (auto& f : drain(dec)) decoded.push_back(std::move(f));
  }
  CHECK(decoded == frames);
}

TEST_CASE("a later header block needs the earlier ones of its connection") {
  spdy::encoder enc;
  const spdy::frame first =
      spdy::syn_reply{.stream_id = 1, .fin = false, .headers = {{"streamtype", "stdout"}}};
  std::string first_wire;
  enc.encode(first, first_wire);
  std::string second_wire;
  enc.encode(first, second_wire);
  CHECK(second_wire.size() < first_wire.size());

  spdy::decoder fresh;
  fresh.feed(second_wire);
  CHECK_FALSE(fresh.next().has_value());

  spdy::decoder in_order;
  in_order.feed(first_wire + second_wire);
  CHECK(drain(in_order) == std::vector<spdy::frame>{first, first});
}

TEST_CASE("header names go on the wire in lowercase") {
  spdy::encoder enc;
  spdy::decoder dec;
  std::string wire;
  enc.encode(spdy::syn_stream{.stream_id = 1,
                              .associated_to = 0,
                              .priority = 0,
                              .fin = false,
                              .unidirectional = false,
                              .headers = {{"StreamType", "Error"}}},
             wire);
  dec.feed(wire);
  const auto frames = drain(dec);
  REQUIRE(frames.size() == 1);
  const auto& syn = std::get<spdy::syn_stream>(frames[0]);
  CHECK(syn.headers == spdy::header_block{{"streamtype", "Error"}});
}

TEST_CASE("a payload longer than one frame goes out as several, FIN on the last") {
  spdy::encoder enc;
  spdy::decoder dec;
  const std::size_t max_payload = (1u << 24) - 1;
  std::string payload(max_payload + 10, 'p');
  payload.back() = 'q';
  std::string wire;
  enc.encode(spdy::data{.stream_id = 3, .fin = true, .payload = payload}, wire);
  dec.feed(wire);
  const auto frames = drain(dec);
  REQUIRE(frames.size() == 2);
  const auto& first = std::get<spdy::data>(frames[0]);
  const auto& second = std::get<spdy::data>(frames[1]);
  CHECK(first.stream_id == 3);
  CHECK_FALSE(first.fin);
  CHECK(first.payload.size() == max_payload);
  CHECK(second.stream_id == 3);
  CHECK(second.fin);
  CHECK(first.payload + second.payload == payload);
}

TEST_CASE("find_header finds the first value, ignoring ASCII case") {
  const spdy::header_block block{{"streamtype", "stdin"}, {"port", "80"}, {"port", "81"}};
  REQUIRE(spdy::find_header(block, "port") != nullptr);
  CHECK(*spdy::find_header(block, "port") == "80");
  REQUIRE(spdy::find_header(block, "StreamType") != nullptr);
  CHECK(*spdy::find_header(block, "StreamType") == "stdin");
  CHECK(spdy::find_header(block, "requestid") == nullptr);
  CHECK(spdy::find_header(block, "stream") == nullptr);
}
