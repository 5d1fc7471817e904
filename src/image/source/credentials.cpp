#include "image/source/credentials.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

namespace ringcri::image {

namespace {

bool is_base64_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/';
}

// Standard base64 (RFC 4648 section 4), padded or not. EVP_DecodeBlock
// wants whole 4-character groups and counts '=' padding as zero bytes in
// its result, so the padding is checked and restored here and its bytes
// are taken off afterwards. Never echoes the input: it is a secret.
std::optional<std::string> decode_base64(std::string_view text) {
  std::size_t data_end = text.size();
  while (data_end > 0 && text[data_end - 1] == '=') --data_end;
  std::size_t padding = text.size() - data_end;
  std::string_view data = text.substr(0, data_end);
  if (padding > 2 || !std::all_of(data.begin(), data.end(), is_base64_char)) return std::nullopt;
  if (data.size() % 4 == 1) return std::nullopt;
  std::size_t missing = (4 - data.size() % 4) % 4;
  if (padding != 0 && padding != missing) return std::nullopt;

  std::string padded(data);
  padded.append(missing, '=');
  std::string out(padded.size() / 4 * 3, '\0');
  if (padded.empty()) return out;
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(padded.data()),
                          static_cast<int>(padded.size()));
  if (n < 0 || static_cast<std::size_t>(n) != out.size()) return std::nullopt;
  out.resize(out.size() - missing);
  return out;
}

}  // namespace

result<credentials> credentials_from(std::string_view username, std::string_view password,
                                     std::string_view auth, std::string_view identity_token,
                                     std::string_view registry_token) {
  credentials c{std::string(username), std::string(password), std::string(identity_token),
                std::string(registry_token)};
  if (auth.empty()) return c;

  auto decoded = decode_base64(auth);
  if (!decoded) return fail(error_kind::invalid_argument, "registry auth is not valid base64");
  auto colon = decoded->find(':');
  if (colon == std::string::npos)
    return fail(error_kind::invalid_argument,
                "registry auth does not decode to \"username:password\" (no ':')");
  c.username = decoded->substr(0, colon);
  c.password = decoded->substr(colon + 1);
  return c;
}

}  // namespace ringcri::image
