#include "base/sys/sha256.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace ringcri::sys {

namespace {

// Fetched once: OpenSSL 3 otherwise looks the algorithm up again in its
// provider tables at every EVP_DigestInit_ex.
const EVP_MD* sha256_md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

[[noreturn]] void die(const char* step) noexcept {
  char why[256] = "unknown OpenSSL error";
  if (unsigned long code = ERR_get_error(); code != 0) ERR_error_string_n(code, why, sizeof why);
  // write(2), not stdio: nothing here allocates.
  for (const char* part : {"ringcri: sha256 ", step, ": ", static_cast<const char*>(why), "\n"})
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, part, std::strlen(part));
  std::abort();
}

void init(EVP_MD_CTX* ctx) noexcept {
  if (sha256_md() == nullptr || EVP_DigestInit_ex(ctx, sha256_md(), nullptr) != 1) die("init");
}

}  // namespace

void sha256::ctx_free::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

sha256::sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_) throw std::bad_alloc();
  init(ctx_.get());
}

sha256::~sha256() = default;

void sha256::update(std::span<const std::byte> bytes) noexcept {
  if (EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1) die("update");
  size_ += bytes.size();
}

std::string sha256::finish() {
  unsigned char raw[32];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), raw, &len) != 1 || len != sizeof raw) die("final");
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * sizeof raw);
  for (unsigned char b : raw) {
    hex.push_back(digits[b >> 4]);
    hex.push_back(digits[b & 0x0f]);
  }
  init(ctx_.get());
  size_ = 0;
  return hex;
}

std::string sha256_hex(std::span<const std::byte> bytes) {
  sha256 h;
  h.update(bytes);
  return h.finish();
}

std::string sha256_hex(std::string_view bytes) {
  return sha256_hex(std::as_bytes(std::span(bytes)));
}

}  // namespace ringcri::sys
