#pragma once
// The header side of the WebSocket upgrade (RFC 6455 §4): the key and
// accept values, and which channel subprotocol both ends speak.

#include <string>
#include <string_view>

namespace ringcri::stream::websocket {

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key:
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string accept_key(std::string_view client_key);

// A fresh Sec-WebSocket-Key for a client: 16 random bytes, base64.
std::string make_client_key();

}  // namespace ringcri::stream::websocket
