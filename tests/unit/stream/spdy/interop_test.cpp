// Frames recorded from moby/spdystream's framer (the spdy package kubelet
// and crictl use, as vendored by cri-tools v1.26.1), written in this order
// on one connection, so their header blocks share one zlib stream.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "frames.hpp"

namespace spdy = ringcri::stream::spdy;
using spdy::testing::drain;
using spdy::testing::from_hex;

namespace {

// SYN_STREAM id 1, streamtype=error.
constexpr std::string_view syn_stream_error =
    "80030001000000290000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a680000"
    "0000ffff";
// SYN_STREAM id 3, priority 7, unidirectional, streamtype=stdin.
constexpr std::string_view syn_stream_stdin =
    "80030001020000170000000300000000e000c22e555c92929907000000ffff";
// SYN_REPLY id 5, FIN, streamtype=stdout.
constexpr std::string_view syn_reply_stdout =
    "800300020100001300000005c22ac5565c92925f5a02000000ffff";
// DATA id 3, FIN, "hello\n".
constexpr std::string_view data_fin = "000000030100000668656c6c6f0a";
constexpr std::string_view ping_7 = "800300060000000400000007";
// GOAWAY last good 9, INTERNAL_ERROR.
constexpr std::string_view goaway_9 = "80030007000000080000000900000002";
// WINDOW_UPDATE id 3, delta 65536.
constexpr std::string_view window_update_3 = "80030009000000080000000300010000";
// RST_STREAM id 3, CANCEL.
constexpr std::string_view rst_stream_3 = "80030003000000080000000300000005";
// SETTINGS initial window 1 MiB, max streams 100 with PERSIST_VALUE.
constexpr std::string_view settings_two =
    "80030004000000140000000200000007001000000100000400000064";
// SYN_STREAM id 7, priority 2: a port-forward data stream with
// streamtype=data, port=8080, requestid=0.
constexpr std::string_view syn_stream_portforward =
    "800300010000002f000000070000000040000225630c3950e1940829e78bc059cac2c0c280818181b308922e32"
    "41f985d100000000ffff";
// HEADERS id 5, x-multi: "a" and "b".
constexpr std::string_view headers_multi =
    "800300080000001900000005829acb5ea19b5b9a5392092ea3199200000000ffff";

std::string recorded_connection() {
  std::string wire;
  for (auto hex :
       {syn_stream_error, syn_stream_stdin, syn_reply_stdout, data_fin, ping_7, goaway_9,
        window_update_3, rst_stream_3, settings_two, syn_stream_portforward, headers_multi}) {
    wire += from_hex(hex);
  }
  return wire;
}

void check_recorded(const std::vector<spdy::frame>& frames) {
  REQUIRE(frames.size() == 11);
  CHECK(frames[0] == spdy::frame{spdy::syn_stream{.stream_id = 1,
                                                  .associated_to = 0,
                                                  .priority = 0,
                                                  .fin = false,
                                                  .unidirectional = false,
                                                  .headers = {{"streamtype", "error"}}}});
  CHECK(frames[1] == spdy::frame{spdy::syn_stream{.stream_id = 3,
                                                  .associated_to = 0,
                                                  .priority = 7,
                                                  .fin = false,
                                                  .unidirectional = true,
                                                  .headers = {{"streamtype", "stdin"}}}});
  CHECK(frames[2] == spdy::frame{spdy::syn_reply{
                         .stream_id = 5, .fin = true, .headers = {{"streamtype", "stdout"}}}});
  CHECK(frames[3] == spdy::frame{spdy::data{.stream_id = 3, .fin = true, .payload = "hello\n"}});
  CHECK(frames[4] == spdy::frame{spdy::ping{.id = 7}});
  CHECK(frames[5] == spdy::frame{spdy::goaway{.last_good_stream_id = 9,
                                              .status = spdy::goaway_status::internal_error}});
  CHECK(frames[6] == spdy::frame{spdy::window_update{.stream_id = 3, .delta = 65536}});
  CHECK(frames[7] ==
        spdy::frame{spdy::rst_stream{.stream_id = 3, .status = spdy::rst_status::cancel}});
  CHECK(frames[8] ==
        spdy::frame{spdy::settings{
            .clear = false,
            .entries = {
                {.flags = 0, .id = spdy::settings_id::initial_window_size, .value = 1u << 20},
                {.flags = 1, .id = spdy::settings_id::max_concurrent_streams, .value = 100}}}});

  // Go writes headers in map order: look them up by name.
  const auto& forward = std::get<spdy::syn_stream>(frames[9]);
  CHECK(forward.stream_id == 7);
  CHECK(forward.priority == 2);
  CHECK_FALSE(forward.fin);
  CHECK(forward.headers.size() == 3);
  REQUIRE(spdy::find_header(forward.headers, "streamtype") != nullptr);
  CHECK(*spdy::find_header(forward.headers, "streamtype") == "data");
  REQUIRE(spdy::find_header(forward.headers, "port") != nullptr);
  CHECK(*spdy::find_header(forward.headers, "port") == "8080");
  REQUIRE(spdy::find_header(forward.headers, "requestid") != nullptr);
  CHECK(*spdy::find_header(forward.headers, "requestid") == "0");

  CHECK(frames[10] ==
        spdy::frame{spdy::headers{
            .stream_id = 5, .fin = false, .headers = {{"x-multi", std::string("a\0b", 3)}}}});
}

}  // namespace

TEST_CASE("frames from spdystream's framer decode in one piece") {
  spdy::decoder dec;
  dec.feed(recorded_connection());
  check_recorded(drain(dec));
}

TEST_CASE("frames from spdystream's framer decode fed byte by byte") {
  spdy::decoder dec;
  std::vector<spdy::frame> frames;
  for (char byte : recorded_connection()) {
    dec.feed(std::string_view(&byte, 1));
    for (auto& f : drain(dec)) frames.push_back(std::move(f));
  }
  check_recorded(frames);
}

TEST_CASE("frames without header blocks encode to spdystream's exact bytes") {
  spdy::encoder enc;
  auto encoded = [&](const spdy::frame& f) {
    std::string out;
    enc.encode(f, out);
    return out;
  };
  CHECK(encoded(spdy::data{.stream_id = 3, .fin = true, .payload = "hello\n"}) ==
        from_hex(data_fin));
  CHECK(encoded(spdy::ping{.id = 7}) == from_hex(ping_7));
  CHECK(encoded(spdy::goaway{.last_good_stream_id = 9,
                             .status = spdy::goaway_status::internal_error}) == from_hex(goaway_9));
  CHECK(encoded(spdy::window_update{.stream_id = 3, .delta = 65536}) == from_hex(window_update_3));
  CHECK(encoded(spdy::rst_stream{.stream_id = 3, .status = spdy::rst_status::cancel}) ==
        from_hex(rst_stream_3));
  CHECK(encoded(spdy::settings{
            .clear = false,
            .entries =
                {{.flags = 0, .id = spdy::settings_id::initial_window_size, .value = 1u << 20},
                 {.flags = 1, .id = spdy::settings_id::max_concurrent_streams, .value = 100}}}) ==
        from_hex(settings_two));
}

TEST_CASE("our SYN_STREAM carries the same fixed fields as spdystream's") {
  // The compressed blocks differ with the compression level; the bytes
  // before them must not.
  spdy::encoder enc;
  std::string out;
  enc.encode(spdy::syn_stream{.stream_id = 3,
                              .associated_to = 0,
                              .priority = 7,
                              .fin = false,
                              .unidirectional = true,
                              .headers = {{"streamtype", "stdin"}}},
             out);
  const std::string theirs = from_hex(syn_stream_stdin);
  CHECK(out.substr(0, 5) == theirs.substr(0, 5));    // version, type, flags
  CHECK(out.substr(8, 10) == theirs.substr(8, 10));  // ids, priority, slot
}
