#include "stream/command_client.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "stream/spdy_command_client.hpp"
#include "stream/upgrade.hpp"
#include "stream/websocket_command_client.hpp"

namespace ringcri::stream {

std::string status_body(const command_outcome& outcome, bool v4) {
  using nlohmann::json;
  switch (outcome.what) {
    case command_outcome::kind::success:
      if (!v4) return {};
      return json{{"metadata", json::object()}, {"status", "Success"}}.dump();
    case command_outcome::kind::exit_code: {
      auto message = fmt::format("command terminated with non-zero exit code: error executing command {}, exit code {}",
                                 outcome.command, outcome.exit_code);
      if (!v4) return message;
      json cause = {{"reason", "ExitCode"}, {"message", std::to_string(outcome.exit_code)}};
      json status = {{"metadata", json::object()}, {"status", "Failure"}, {"message", message},
                     {"reason", "NonZeroExitCode"}};
      status["details"]["causes"] = json::array({cause});
      return status.dump();
    }
    case command_outcome::kind::error: {
      auto message = "Internal error occurred: " + outcome.message;
      if (!v4) return message;
      json cause = {{"message", outcome.message}};
      json status = {{"metadata", json::object()}, {"status", "Failure"}, {"message", message},
                     {"reason", "InternalError"}, {"code", 500}};
      status["details"]["causes"] = json::array({cause});
      return status.dump();
    }
  }
  return {};
}

std::optional<terminal_size> resize_parser::parse(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  // Missing is 0; anything but a number from 0 to 65535 refuses the message
  // (json::value would throw on a string).
  auto field = [&](const char* name) -> std::optional<std::uint16_t> {
    auto it = j.find(name);
    if (it == j.end()) return std::uint16_t{0};
    if (!it->is_number_integer()) return std::nullopt;
    auto v = it->get<std::int64_t>();
    if (v < 0 || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
  };
  auto width = field("Width");
  auto height = field("Height");
  if (!width || !height) return std::nullopt;
  terminal_size size;
  size.width = *width;
  size.height = *height;
  return size;
}

reactor::task<result<std::unique_ptr<command_client>>> accept_command_client(
    int fd, const http_request& req, std::string already_read, const command_streams& streams) {
  switch (upgrade_of(req)) {
    case upgrade_kind::spdy: {
      auto protocol = co_await upgrade_to_spdy(fd, req, spdy_command_client::protocols, true);
      if (!protocol) co_return tl::unexpected(protocol.error());
      std::unique_ptr<command_client> c =
          std::make_unique<spdy_command_client>(fd, std::move(already_read), *protocol, streams);
      co_return c;
    }
    case upgrade_kind::websocket: {
      auto protocol = co_await upgrade_to_websocket(fd, req, websocket_command_client::protocols);
      if (!protocol) co_return tl::unexpected(protocol.error());
      std::unique_ptr<command_client> c =
          std::make_unique<websocket_command_client>(fd, std::move(already_read), *protocol, streams);
      co_return c;
    }
    case upgrade_kind::none:
      break;
  }
  (void)co_await write_error_response(fd, 400, "Bad Request",
                                      "expected an upgrade to SPDY/3.1 or websocket (Connection: Upgrade)");
  co_return fail(error_kind::invalid_argument, "streaming request without an upgrade");
}

}  // namespace ringcri::stream
