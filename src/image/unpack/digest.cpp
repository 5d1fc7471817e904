#include "image/unpack/digest.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <new>
#include <utility>

namespace ringcri::image {

namespace {

constexpr std::size_t sha256_hex_size = 64;

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// OCI image-spec descriptor.md: algorithm := component (separator
// component)*, component := [a-z0-9]+, separator := [+._-].
bool is_algorithm(std::string_view s) {
  if (s.empty()) return false;
  bool after_separator = true;
  for (char c : s) {
    bool component = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    bool separator = c == '+' || c == '.' || c == '_' || c == '-';
    if (!component && !separator) return false;
    if (separator && after_separator) return false;
    after_separator = separator;
  }
  return !after_separator;
}

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

// Fetched once: OpenSSL 3 otherwise looks the algorithm up again in its
// provider tables at every EVP_DigestInit_ex.
const EVP_MD* sha256_md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

}  // namespace

result<digest> digest::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return fail(error_kind::invalid_argument,
                fmt::format("invalid digest \"{}\": want algorithm:hex", text));
  std::string_view algorithm = text.substr(0, colon);
  std::string_view encoded = text.substr(colon + 1);
  if (!is_algorithm(algorithm))
    return fail(error_kind::invalid_argument,
                fmt::format("invalid digest \"{}\": bad algorithm \"{}\"", text, algorithm));
  if (algorithm != "sha256")
    return fail(error_kind::invalid_argument,
                fmt::format("unsupported digest algorithm \"{}\" in \"{}\" (only sha256)",
                            algorithm, text));
  if (encoded.size() != sha256_hex_size)
    return fail(error_kind::invalid_argument,
                fmt::format("invalid digest \"{}\": sha256 needs 64 hex digits, got {}", text,
                            encoded.size()));
  for (char c : encoded)
    if (!is_lower_hex(c))
      return fail(error_kind::invalid_argument,
                  fmt::format("invalid digest \"{}\": not lowercase hex", text));
  return digest(std::string(text));
}

digest digest::from_sha256(std::span<const std::uint8_t, 32> raw) {
  static constexpr char hexdigits[] = "0123456789abcdef";
  std::string text = "sha256:";
  text.reserve(7 + sha256_hex_size);
  for (std::uint8_t b : raw) {
    text.push_back(hexdigits[b >> 4]);
    text.push_back(hexdigits[b & 0xf]);
  }
  return digest(std::move(text));
}

void sha256_hasher::ctx_free::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

sha256_hasher::sha256_hasher() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_) throw std::bad_alloc();  // an allocation, like any other
  ready_ = sha256_md() != nullptr && EVP_DigestInit_ex(ctx_.get(), sha256_md(), nullptr) == 1;
}

sha256_hasher::sha256_hasher(sha256_hasher&& other) noexcept
    : ctx_(std::move(other.ctx_)),
      size_(std::exchange(other.size_, 0)),
      ready_(std::exchange(other.ready_, false)) {}

sha256_hasher& sha256_hasher::operator=(sha256_hasher&& other) noexcept {
  ctx_ = std::move(other.ctx_);
  size_ = std::exchange(other.size_, 0);
  ready_ = std::exchange(other.ready_, false);
  return *this;
}
sha256_hasher::~sha256_hasher() = default;

result<void> sha256_hasher::update(std::span<const std::byte> bytes) {
  if (!ready_) return fail(error_kind::internal, "sha256: init: " + openssl_error());
  if (EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1)
    return fail(error_kind::internal, "sha256: update: " + openssl_error());
  size_ += bytes.size();
  return {};
}

result<digest> sha256_hasher::finish() {
  if (!ready_) return fail(error_kind::internal, "sha256: init: " + openssl_error());
  std::uint8_t raw[32];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), raw, &len) != 1 || len != sizeof raw)
    return fail(error_kind::internal, "sha256: final: " + openssl_error());
  ready_ = EVP_DigestInit_ex(ctx_.get(), sha256_md(), nullptr) == 1;
  size_ = 0;
  return digest::from_sha256(std::span<const std::uint8_t, 32>(raw));
}

result<digest> sha256_of(std::span<const std::byte> bytes) {
  sha256_hasher h;
  if (auto r = h.update(bytes); !r) return tl::unexpected(r.error());
  return h.finish();
}

}  // namespace ringcri::image
