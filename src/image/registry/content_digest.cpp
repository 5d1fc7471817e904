#include "image/registry/content_digest.hpp"

#include "base/sys/sha256.hpp"

namespace ringcri::image::registry_detail {

std::string sha256_digest_of(std::string_view bytes) { return "sha256:" + sys::sha256_hex(bytes); }

bool is_sha256_digest(std::string_view d) {
  if (d.size() != 71 || !d.starts_with("sha256:")) return false;
  for (char c : d.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace ringcri::image::registry_detail
