#pragma once
// Content digests as the registry client handles them, as text:
// "sha256:<64 lowercase hex>", what manifests and configs name and what
// fetched bytes are checked against (hashed with base/sys/sha256.hpp).
// unpack/digest.hpp has the image's digest type; this stays separate so
// the registry client does not depend on the unpacker.

#include <string>
#include <string_view>

namespace ringcri::image::registry_detail {

// "sha256:<hex>" of `bytes`.
std::string sha256_digest_of(std::string_view bytes);

// "sha256:" followed by 64 lowercase hex digits.
bool is_sha256_digest(std::string_view d);

}  // namespace ringcri::image::registry_detail
