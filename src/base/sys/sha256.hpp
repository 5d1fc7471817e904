#pragma once
// Streaming SHA-256 over bytes fed in any pieces (OpenSSL EVP, which uses
// the CPU's SHA extensions where it has them): layer blobs and diff ids,
// manifests, config blobs, cache keys.
//
// OpenSSL's SHA-256 fails only when it cannot allocate, or when its
// default provider is missing (a broken install). The constructor throws
// std::bad_alloc for the first, as any allocation does; anything else
// aborts the process with OpenSSL's message on stderr, as a failure of
// the kernel's random bytes does: a digest is never made from a broken
// state, and no caller has a sane fallback.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace ringcri::sys {

class sha256 {
 public:
  sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;
  sha256(sha256&&) noexcept = default;
  sha256& operator=(sha256&&) noexcept = default;
  ~sha256();

  void update(std::span<const std::byte> bytes) noexcept;
  void update(std::string_view bytes) noexcept { update(std::as_bytes(std::span(bytes))); }

  // 64 lowercase hex digits of everything fed since the start (or the last
  // finish); the hasher then starts over, empty.
  std::string finish();

  // Bytes fed since the start (or the last finish).
  std::uint64_t size() const noexcept { return size_; }

 private:
  struct ctx_free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, ctx_free> ctx_;
  std::uint64_t size_ = 0;
};

// The hex SHA-256 of one buffer.
std::string sha256_hex(std::span<const std::byte> bytes);
std::string sha256_hex(std::string_view bytes);

}  // namespace ringcri::sys
