#pragma once
// Content digests as OCI writes them ("sha256:<64 lowercase hex>") and the
// streaming sha256 that checks them. sha256 is the only algorithm OCI
// registries serve for layers; any other is refused by name rather than
// skipped, so nothing unverified is ever unpacked.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/error.hpp"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace ringcri::image {

class digest {
 public:
  // INVALID_ARGUMENT naming the text: not "algorithm:encoded", an algorithm
  // other than sha256 ("unsupported digest algorithm \"sha512\""), or not
  // 64 lowercase hex digits.
  static result<digest> parse(std::string_view text);
  // From the 32 bytes a sha256 produced.
  static digest from_sha256(std::span<const std::uint8_t, 32> raw);

  const std::string& string() const { return text_; }  // "sha256:<hex>"
  std::string_view algorithm() const { return std::string_view(text_).substr(0, 6); }
  std::string_view hex() const { return std::string_view(text_).substr(7); }

  friend bool operator==(const digest&, const digest&) = default;
  friend std::strong_ordering operator<=>(const digest& a, const digest& b) {
    return a.text_ <=> b.text_;
  }

 private:
  explicit digest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// Streaming sha256 over bytes fed in any pieces (OpenSSL EVP, which uses
// the SHA extensions of the CPU where it has them).
class sha256_hasher {
 public:
  sha256_hasher();
  sha256_hasher(const sha256_hasher&) = delete;
  sha256_hasher& operator=(const sha256_hasher&) = delete;
  sha256_hasher(sha256_hasher&&) noexcept;
  sha256_hasher& operator=(sha256_hasher&&) noexcept;
  ~sha256_hasher();

  result<void> update(std::span<const std::byte> bytes);
  // The digest of everything fed; the hasher then starts over, empty.
  result<digest> finish();
  std::uint64_t size() const { return size_; }  // bytes fed since the start

 private:
  struct ctx_free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, ctx_free> ctx_;
  std::uint64_t size_ = 0;
  bool ready_ = false;  // the context was initialised
};

// sha256 of one buffer, for tests and small blobs.
result<digest> sha256_of(std::span<const std::byte> bytes);

}  // namespace ringcri::image
