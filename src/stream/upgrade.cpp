#include "stream/upgrade.hpp"

#include "stream/output_pump.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "stream/websocket/handshake.hpp"

namespace ringcri::stream {

namespace {

// The first protocol in the client's order that we support, as kubelet
// picks; "" for none.
std::string pick(const std::vector<std::string>& offered, std::span<const std::string_view> supported) {
  for (const auto& o : offered)
    for (auto s : supported)
      if (o == s) return o;
  return {};
}

reactor::task<result<std::string>> refuse(int fd, std::string_view message) {
  (void)co_await write_error_response(fd, 400, "Bad Request", message);
  co_return fail(error_kind::invalid_argument, std::string(message));
}

}  // namespace

upgrade_kind upgrade_of(const http_request& req) {
  if (!req.header_has_token("connection", "upgrade")) return upgrade_kind::none;
  auto up = req.header("upgrade");
  for (auto& c : up) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (up == "websocket") return upgrade_kind::websocket;
  if (up == "spdy/3.1") return upgrade_kind::spdy;
  return upgrade_kind::none;
}

reactor::task<result<std::string>> upgrade_to_spdy(int fd, const http_request& req,
                                                   std::span<const std::string_view> supported,
                                                   bool allow_none) {
  auto offered = req.header_list("x-stream-protocol-version");
  std::string chosen;
  if (offered.empty()) {
    if (!allow_none) co_return co_await refuse(fd, "no X-Stream-Protocol-Version given");
  } else {
    chosen = pick(offered, supported);
    if (chosen.empty()) {
      auto message = fmt::format("X-Stream-Protocol-Version {} not supported; supported: {}",
                                 fmt::join(offered, ", "), fmt::join(supported, ", "));
      co_return co_await refuse(fd, message);
    }
  }
  std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n";
  if (!chosen.empty()) response += fmt::format("X-Stream-Protocol-Version: {}\r\n", chosen);
  response += "\r\n";
  auto written = co_await write_all(fd, response);
  if (!written) co_return tl::unexpected(written.error());
  co_return chosen;
}

reactor::task<result<std::string>> upgrade_to_websocket(int fd, const http_request& req,
                                                        std::span<const std::string_view> supported) {
  auto key = req.header("sec-websocket-key");
  if (key.empty()) co_return co_await refuse(fd, "WebSocket upgrade without Sec-WebSocket-Key");
  if (req.header("sec-websocket-version") != "13")
    co_return co_await refuse(fd, "WebSocket version must be 13");
  auto offered = req.header_list("sec-websocket-protocol");
  std::string chosen;
  if (!offered.empty()) {
    chosen = pick(offered, supported);
    if (chosen.empty()) {
      auto message = fmt::format("WebSocket subprotocols {} not supported; supported: {}",
                                 fmt::join(offered, ", "), fmt::join(supported, ", "));
      co_return co_await refuse(fd, message);
    }
  }
  std::string response = fmt::format(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Accept: {}\r\n",
      websocket::accept_key(key));
  if (!chosen.empty()) response += fmt::format("Sec-WebSocket-Protocol: {}\r\n", chosen);
  response += "\r\n";
  auto written = co_await write_all(fd, response);
  if (!written) co_return tl::unexpected(written.error());
  co_return chosen;
}

}  // namespace ringcri::stream
