#pragma once
// Streaming sha256 for verifying what the registry sends (manifests by
// digest, blobs as they stream). Internal: unpack/digest.hpp has the
// public digest type; this stays separate so the registry client does not
// depend on the unpacker.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace ringcri::image::registry_detail {

class sha256_stream {
 public:
  sha256_stream();
  sha256_stream(const sha256_stream&) = delete;
  sha256_stream& operator=(const sha256_stream&) = delete;
  sha256_stream(sha256_stream&&) noexcept = default;
  sha256_stream& operator=(sha256_stream&&) noexcept = default;
  ~sha256_stream();

  void update(std::span<const std::byte> bytes);
  void update(std::string_view bytes) { update(std::as_bytes(std::span(bytes))); }
  // "sha256:<64 lowercase hex>" of everything fed.
  std::string finish();

 private:
  struct ctx_free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, ctx_free> ctx_;
};

std::string sha256_digest_of(std::string_view bytes);

// "sha256:" followed by 64 lowercase hex digits.
bool is_sha256_digest(std::string_view d);

}  // namespace ringcri::image::registry_detail
