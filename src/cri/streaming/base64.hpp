#pragma once
// Standard base64 (with padding), for the base64.channel.k8s.io
// WebSocket subprotocols. OpenSSL's EVP block coder does the work.

#include <optional>
#include <string>
#include <string_view>

namespace ringcri::cri::streaming {

std::string base64_encode(std::string_view data);
// nullopt when `text` is not valid padded base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ringcri::cri::streaming
