#include "stream/websocket/handshake.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <string_view>

namespace ws = ringcri::stream::websocket;

namespace {
constexpr std::array<std::string_view, 4> k8s_protocols = {
    "v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io", "base64.channel.k8s.io"};
}

TEST_CASE("accept_key matches the example of RFC 6455 section 1.3") {
  CHECK(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  // A browser's handshake, as captured on the wire.
  CHECK(ws::accept_key("wDqumtseNBJdhkihL6PW7w==") == "0FFP+2nmNIf/h+4BP36k9uzrYGk=");
}

TEST_CASE("make_client_key is 16 random bytes in base64") {
  auto a = ws::make_client_key();
  auto b = ws::make_client_key();
  CHECK(a.size() == 24);  // 16 bytes -> 22 characters and "=="
  CHECK(a.substr(22) == "==");
  CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
        std::string::npos);
  CHECK(a != b);
  // The server side of the handshake accepts it like any other key.
  CHECK(ws::accept_key(a).size() == 28);
}
