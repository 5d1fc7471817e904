#include "cri/streaming/websocket/handshake.hpp"

#include <openssl/evp.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <vector>

namespace ringcri::cri::streaming::websocket {
namespace {

constexpr std::string_view accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view blanks = " \t";
  auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(blanks);
  return s.substr(first, last - first + 1);
}

}  // namespace

std::string accept_key(std::string_view client_key) {
  std::string input;
  input.reserve(client_key.size() + accept_guid.size());
  input.append(client_key).append(accept_guid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  // SHA-1 through EVP: the one-shot SHA1() family is deprecated in OpenSSL 3.
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) !=
      1) {
    std::abort();  // only when OpenSSL cannot allocate a digest context
  }
  return base64(digest.data(), digest_size);
}

std::string make_client_key() {
  std::array<unsigned char, 16> nonce{};
  // getrandom of at most 256 bytes is never cut short once the pool is
  // ready, and every kernel with io_uring has it; EINTR only while booting.
  while (getrandom(nonce.data(), nonce.size(), 0) != static_cast<ssize_t>(nonce.size())) {
    if (errno != EINTR) std::abort();
  }
  return base64(nonce.data(), nonce.size());
}

std::optional<std::string> choose_subprotocol(std::string_view offered,
                                              std::span<const std::string_view> supported) {
  std::vector<std::string_view> tokens;
  while (!offered.empty()) {
    auto comma = offered.find(',');
    auto token = trim(offered.substr(0, comma));
    if (!token.empty()) tokens.push_back(token);
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  for (auto ours : supported) {
    for (auto theirs : tokens) {
      if (theirs == ours) return std::string(ours);
    }
  }
  return std::nullopt;
}

}  // namespace ringcri::cri::streaming::websocket
