// A client and a server connection talking through their byte buffers.
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "stream/websocket/connection.hpp"

namespace ws = ringcri::stream::websocket;
using role = ws::connection::role;

namespace {

// Moves what `from` has to write into `to`, in one piece or a byte at a time.
void pump(ws::connection& from, ws::connection& to, bool byte_by_byte = false) {
  auto bytes = from.take_output();
  if (!byte_by_byte) {
    REQUIRE(to.feed(bytes));
    return;
  }
  for (char c : bytes) REQUIRE(to.feed(std::string_view(&c, 1)));
}

std::string payload_of(ws::opcode op, std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    // Text stays ASCII (wslay checks UTF-8); binary covers every byte value.
    s[i] = op == ws::opcode::text ? static_cast<char>('a' + i % 26)
                                  : static_cast<char>((i * 31 + 7) % 256);
  }
  return s;
}

// Frame header size for a payload of `size` (RFC 6455 §5.2), plus the
// masking key a client adds.
std::size_t framed_size(std::size_t size, bool masked) {
  std::size_t header = size < 126 ? 2 : size < 65536 ? 4 : 10;
  return header + (masked ? 4 : 0) + size;
}

}  // namespace

TEST_CASE("messages of every length class cross in both directions") {
  auto op = GENERATE(ws::opcode::binary, ws::opcode::text);
  auto size = GENERATE(std::size_t{0}, std::size_t{1}, std::size_t{125}, std::size_t{126},
                       std::size_t{65535}, std::size_t{65536}, std::size_t{1} << 20);
  auto byte_by_byte = GENERATE(false, true);
  CAPTURE(static_cast<int>(op), size, byte_by_byte);

  ws::connection client(role::client);
  ws::connection server(role::server);
  auto payload = payload_of(op, size);

  // Client to server: masked on the wire.
  client.send(op, payload);
  auto wire = client.take_output();
  REQUIRE(wire.size() == framed_size(size, true));
  CHECK((static_cast<std::uint8_t>(wire[1]) & 0x80) != 0);
  if (byte_by_byte) {
    for (std::size_t i = 0; i < wire.size(); ++i) {
      REQUIRE(server.feed(std::string_view(&wire[i], 1)));
      if (i + 1 < wire.size()) REQUIRE_FALSE(server.next_message());
    }
  } else {
    REQUIRE(server.feed(wire));
  }
  auto got = server.next_message();
  REQUIRE(got);
  CHECK(got->op == op);
  CHECK(got->payload.size() == size);
  CHECK(got->payload == payload);
  CHECK_FALSE(server.next_message());
  CHECK(server.take_output().empty());

  // Server to client: unmasked on the wire.
  server.send(op, payload);
  wire = server.take_output();
  REQUIRE(wire.size() == framed_size(size, false));
  CHECK((static_cast<std::uint8_t>(wire[1]) & 0x80) == 0);
  if (byte_by_byte) {
    for (char c : wire) REQUIRE(client.feed(std::string_view(&c, 1)));
  } else {
    REQUIRE(client.feed(wire));
  }
  got = client.next_message();
  REQUIRE(got);
  CHECK(got->op == op);
  CHECK(got->payload == payload);
  CHECK_FALSE(client.next_message());
  CHECK_FALSE(client.finished());
  CHECK_FALSE(server.finished());
}

TEST_CASE("several messages in one read come out in order") {
  ws::connection client(role::client);
  ws::connection server(role::server);
  client.send(ws::opcode::text, "one");
  client.send(ws::opcode::binary, std::string("\0two", 4));
  client.send(ws::opcode::text, "");
  client.send(ws::opcode::binary, payload_of(ws::opcode::binary, 70000));
  pump(client, server);

  std::vector<ws::message> got;
  while (auto m = server.next_message()) got.push_back(std::move(*m));
  REQUIRE(got.size() == 4);
  CHECK(got[0].op == ws::opcode::text);
  CHECK(got[0].payload == "one");
  CHECK(got[1].op == ws::opcode::binary);
  CHECK(got[1].payload == std::string("\0two", 4));
  CHECK(got[2].payload.empty());
  CHECK(got[3].payload == payload_of(ws::opcode::binary, 70000));
}

TEST_CASE("a message split at every boundary is reassembled") {
  ws::connection client(role::client);
  ws::connection server(role::server);
  client.send(ws::opcode::text, "first");
  client.send(ws::opcode::binary, payload_of(ws::opcode::binary, 300));
  auto wire = client.take_output();
  // Two reads, cut at each position in turn.
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    ws::connection fresh(role::server);
    REQUIRE(fresh.feed(std::string_view(wire).substr(0, cut)));
    REQUIRE(fresh.feed(std::string_view(wire).substr(cut)));
    auto a = fresh.next_message();
    auto b = fresh.next_message();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->payload == "first");
    CHECK(b->payload == payload_of(ws::opcode::binary, 300));
  }
}

TEST_CASE("a ping is answered with a pong carrying its payload") {
  ws::connection client(role::client);
  ws::connection server(role::server);
  auto from_client = GENERATE(true, false);
  auto& pinger = from_client ? client : server;
  auto& ponger = from_client ? server : client;

  pinger.send(ws::opcode::ping, "are you there");
  pump(pinger, ponger);
  auto ping = ponger.next_message();
  REQUIRE(ping);
  CHECK(ping->op == ws::opcode::ping);
  CHECK(ping->payload == "are you there");

  // The pong was queued by feed() alone.
  pump(ponger, pinger);
  auto pong = pinger.next_message();
  REQUIRE(pong);
  CHECK(pong->op == ws::opcode::pong);
  CHECK(pong->payload == "are you there");
  CHECK_FALSE(pinger.finished());
  CHECK_FALSE(ponger.finished());
}

TEST_CASE("a control payload over 125 bytes is not sent") {
  ws::connection server(role::server);
  server.send(ws::opcode::ping, std::string(126, 'p'));
  CHECK(server.take_output().empty());
  server.send(ws::opcode::ping, std::string(125, 'p'));
  CHECK(server.take_output().size() == 127);
}

TEST_CASE("the close handshake, started by either side") {
  auto byte_by_byte = GENERATE(false, true);
  auto client_first = GENERATE(true, false);
  ws::connection client(role::client);
  ws::connection server(role::server);
  auto& closer = client_first ? client : server;
  auto& peer = client_first ? server : client;

  closer.close(1000, "bye");
  CHECK(closer.close_sent());
  CHECK_FALSE(closer.close_received());
  CHECK_FALSE(closer.finished());
  // Nothing goes out after our close.
  auto close_bytes = closer.take_output();
  closer.send(ws::opcode::text, "late");
  CHECK(closer.take_output().empty());

  if (byte_by_byte) {
    for (char c : close_bytes) REQUIRE(peer.feed(std::string_view(&c, 1)));
  } else {
    REQUIRE(peer.feed(close_bytes));
  }
  auto close = peer.next_message();
  REQUIRE(close);
  CHECK(close->op == ws::opcode::close);
  CHECK(close->close_code == 1000);
  CHECK(close->payload == "bye");
  // The reply went out with the feed.
  CHECK(peer.close_received());
  CHECK(peer.close_sent());
  CHECK(peer.finished());

  pump(peer, closer, byte_by_byte);
  auto reply = closer.next_message();
  REQUIRE(reply);
  CHECK(reply->op == ws::opcode::close);
  CHECK(reply->close_code == 1000);
  CHECK(closer.close_received());
  CHECK(closer.finished());

  // Bytes after the close are ignored, not an error.
  CHECK(closer.feed("\x81\x01x"));
  CHECK_FALSE(closer.next_message());
  CHECK(closer.take_output().empty());
  CHECK(peer.take_output().empty());
}

TEST_CASE("a close without a status code") {
  ws::connection client(role::client);
  ws::connection server(role::server);
  server.close(0);
  pump(server, client);
  auto close = client.next_message();
  REQUIRE(close);
  CHECK(close->op == ws::opcode::close);
  CHECK(close->close_code == 0);
  CHECK(close->payload.empty());
  CHECK(client.finished());
  pump(client, server);
  CHECK(server.finished());
}

TEST_CASE("a long close reason is cut to what a close frame holds") {
  ws::connection client(role::client);
  ws::connection server(role::server);
  server.close(1001, std::string(300, 'r'));
  pump(server, client);
  auto close = client.next_message();
  REQUIRE(close);
  CHECK(close->close_code == 1001);
  CHECK(close->payload == std::string(123, 'r'));
}

TEST_CASE("a connection can be moved while in use") {
  ws::connection client(role::client);
  ws::connection server(role::server);
  client.send(ws::opcode::text, "before");
  auto wire = client.take_output();
  REQUIRE(server.feed(std::string_view(wire).substr(0, 3)));
  ws::connection moved(std::move(server));
  REQUIRE(moved.feed(std::string_view(wire).substr(3)));
  auto m = moved.next_message();
  REQUIRE(m);
  CHECK(m->payload == "before");
  moved.send(ws::opcode::text, "after");
  pump(moved, client);
  auto reply = client.next_message();
  REQUIRE(reply);
  CHECK(reply->payload == "after");
}
