#include "image/registry/sha256_stream.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace ringcri::image::registry_detail {

void sha256_stream::ctx_free::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

sha256_stream::sha256_stream() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
    // Only at allocation failure; no reactor code can recover from that.
    throw std::bad_alloc();
  }
}

sha256_stream::~sha256_stream() = default;

void sha256_stream::update(std::span<const std::byte> bytes) {
  EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
}

std::string sha256_stream::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &len);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  return out;
}

std::string sha256_digest_of(std::string_view bytes) {
  sha256_stream s;
  s.update(bytes);
  return s.finish();
}

bool is_sha256_digest(std::string_view d) {
  if (d.size() != 71 || !d.starts_with("sha256:")) return false;
  for (char c : d.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace ringcri::image::registry_detail
