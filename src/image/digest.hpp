#pragma once
// Content digests as OCI writes them ("sha256:<64 lowercase hex>"), made
// by the streaming sha256 of base/sys/sha256.hpp. sha256 is the only
// algorithm OCI registries serve for layers; any other is refused by name
// rather than skipped, so nothing unverified is ever unpacked.

#include <compare>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/sys/sha256.hpp"

namespace ringcri::image {

class digest {
 public:
  // INVALID_ARGUMENT naming the text: not "algorithm:encoded", an algorithm
  // other than sha256 ("unsupported digest algorithm \"sha512\""), or not
  // 64 lowercase hex digits.
  static result<digest> parse(std::string_view text);
  // The digest of what `hasher` was fed; the hasher starts over.
  static digest of(sys::sha256& hasher);

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

// sha256 of one buffer, for tests and small blobs.
digest sha256_of(std::span<const std::byte> bytes);

}  // namespace ringcri::image
