#include "stream/websocket/handshake.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdlib>
#include <vector>

#include "base/base64.hpp"
#include "base/sys/random.hpp"

namespace ringcri::stream::websocket {
namespace {

constexpr std::string_view accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

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
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest_size));
}

std::string make_client_key() {
  std::array<std::byte, 16> nonce{};
  sys::random_bytes(nonce);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(nonce.data()), nonce.size()));
}


}  // namespace ringcri::stream::websocket
