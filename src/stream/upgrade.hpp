#pragma once
// The HTTP upgrade of a streaming connection: to SPDY/3.1 with
// X-Stream-Protocol-Version negotiation, or to WebSocket with a
// subprotocol. On failure the error response (400) is written and the
// error returned; the caller then closes the connection.

#include <span>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "stream/http_request.hpp"
#include "reactor/task.hpp"

namespace ringcri::stream {

enum class upgrade_kind { spdy, websocket, none };

upgrade_kind upgrade_of(const http_request& req);

// Picks the first protocol the client lists that we support (kubelet's
// rule) and answers 101. A client that lists none gets "" (the oldest
// protocol) when `allow_none`.
reactor::task<result<std::string>> upgrade_to_spdy(int fd, const http_request& req,
                                                   std::span<const std::string_view> supported,
                                                   bool allow_none);

// Same for WebSocket's Sec-WebSocket-Protocol; "" when the client offers
// none.
reactor::task<result<std::string>> upgrade_to_websocket(int fd, const http_request& req,
                                                        std::span<const std::string_view> supported);

}  // namespace ringcri::stream
