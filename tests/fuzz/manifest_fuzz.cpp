// Manifests, indexes and the platform choice (image/registry/manifest,
// platform): whatever a registry sends, every descriptor that comes out
// has a sha256 digest and a size, and the manifest chosen from an index is
// an image manifest of that index.

#include <array>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "image/registry/content_digest.hpp"
#include "image/registry/manifest.hpp"

using namespace ringcri;
using namespace ringcri::image;

namespace {

void check(const descriptor& d) {
  FUZZ_CHECK(registry_detail::is_sha256_digest(d.digest));
  FUZZ_CHECK(d.size >= 0);
  if (d.platform) (void)d.platform->string();
}

void check_index(std::string_view bytes, std::string_view media_type) {
  auto index = parse_index(bytes, media_type);
  if (!index) return;
  FUZZ_CHECK(index->media_type == media_type);
  for (const auto& d : index->manifests) check(d);
  static const std::array<platform, 5> hosts = {
      platform_for_machine("x86_64"), platform_for_machine("aarch64"),
      platform_for_machine("armv7l"), platform_for_machine("armv6l"), host_platform()};
  for (const auto& want : hosts) {
    auto chosen = choose_manifest(*index, want);
    if (!chosen) {
      FUZZ_CHECK(chosen.error().kind() == error_kind::not_found);
      continue;
    }
    FUZZ_CHECK(media_types::is_manifest(chosen->media_type));
    bool listed = false;
    for (const auto& d : index->manifests) listed = listed || d.digest == chosen->digest;
    FUZZ_CHECK(listed);
    if (chosen->platform) (void)platform_score(want, normalize(*chosen->platform));
  }
}

void check_manifest(std::string_view bytes, std::string_view media_type) {
  auto m = parse_manifest(bytes, media_type);
  if (!m) return;
  FUZZ_CHECK(m->media_type == media_type);
  FUZZ_CHECK(media_types::is_config(m->config.media_type));
  check(m->config);
  for (const auto& d : m->layers) check(d);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes = fuzz::as_text(data, size);
  // As resolve() does: the kind from the content, then the parse.
  if (auto kind = manifest_media_type("", bytes); kind) {
    if (media_types::is_index(*kind)) check_index(bytes, *kind);
    if (media_types::is_manifest(*kind)) check_manifest(bytes, *kind);
  }
  // And as a registry might label it, rightly or not.
  check_index(bytes, media_types::oci_index);
  check_index(bytes, media_types::docker_list);
  check_manifest(bytes, media_types::oci_manifest);
  check_manifest(bytes, media_types::docker_manifest);
  return 0;
}
