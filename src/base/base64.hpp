#pragma once
// Standard base64 (RFC 4648, with padding): Basic auth headers, WebSocket
// keys, the base64.channel.k8s.io subprotocols. OpenSSL's EVP block coder
// does the work.

#include <optional>
#include <string>
#include <string_view>

namespace ringcri {

std::string base64_encode(std::string_view data);
// nullopt when `text` is not valid padded base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ringcri
