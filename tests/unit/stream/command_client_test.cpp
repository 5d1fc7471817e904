// What the client reads and sends besides the data: the status on the
// error stream (kubectl takes the exit code from it) and resize messages.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <vector>

#include "base/base64.hpp"
#include "stream/command_client.hpp"

using namespace ringcri::stream;
using ringcri::base64_decode;
using ringcri::base64_encode;

TEST_CASE("a non-zero exit is a v4 Status with the code in its causes") {
  command_outcome o{command_outcome::kind::exit_code, 3, {}, "[sh -c exit 3]"};
  auto status = nlohmann::json::parse(status_body(o, true));
  CHECK(status["status"] == "Failure");
  CHECK(status["reason"] == "NonZeroExitCode");
  CHECK(status["details"]["causes"][0]["reason"] == "ExitCode");
  CHECK(status["details"]["causes"][0]["message"] == "3");
  CHECK(status_body(o, false).find("exit code 3") != std::string::npos);
}

TEST_CASE("success is a Success status for v4 and nothing before") {
  command_outcome o;
  CHECK(nlohmann::json::parse(status_body(o, true))["status"] == "Success");
  CHECK(status_body(o, false).empty());
}

TEST_CASE("an error is an InternalError status carrying the message") {
  command_outcome o{command_outcome::kind::error, 0, "\"/x\": No such file or directory", {}};
  auto status = nlohmann::json::parse(status_body(o, true));
  CHECK(status["reason"] == "InternalError");
  CHECK(status["code"] == 500);
  CHECK(status["message"].get<std::string>().find("/x") != std::string::npos);
}

TEST_CASE("resize messages: one after another, split anywhere, junk skipped") {
  std::string stream = R"({"Width":80,"Height":24}{"Width":120,"Height":40} {"Width":-1,"Height":3}{"Width":7,"Height":9})";
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    resize_parser p;
    std::vector<std::pair<int, int>> sizes;
    auto each = [&](terminal_size s) { sizes.emplace_back(s.width, s.height); };
    p.feed(std::string_view(stream).substr(0, cut), each);
    p.feed(std::string_view(stream).substr(cut), each);
    INFO(cut);
    REQUIRE(sizes.size() == 3);
    CHECK(sizes[0] == std::make_pair(80, 24));
    CHECK(sizes[1] == std::make_pair(120, 40));
    CHECK(sizes[2] == std::make_pair(7, 9));
  }
}

TEST_CASE("resize-wrong-json-type: a field of the wrong type is skipped, not thrown") {
  resize_parser p;
  std::vector<std::pair<int, int>> sizes;
  auto each = [&](terminal_size s) { sizes.emplace_back(s.width, s.height); };
  REQUIRE_NOTHROW(p.feed(R"({"Width":"80","Height":24}{"Width":[1],"Height":{}}{"Width":1.5,"Height":2})"
                         R"({"Width":null}{"Width":33,"Height":44})",
                         each));
  REQUIRE(sizes.size() == 1);
  CHECK(sizes[0] == std::make_pair(33, 44));
}

TEST_CASE("base64 for the base64 channel protocols") {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foo\n", std::string("\0\xff\x10", 3)}) {
    auto round = base64_decode(base64_encode(s));
    REQUIRE(round);
    CHECK(*round == s);
  }
  CHECK(base64_encode("foo\n") == "Zm9vCg==");
  CHECK_FALSE(base64_decode("Zm9"));
  CHECK_FALSE(base64_decode("Zm9v*g=="));
}
