#pragma once
// Image indexes and manifests, OCI and Docker v2 (schema 2): parsed from
// the bytes a registry sent, checked (schema version, media types,
// descriptors), and the index entry chosen for a platform.
//
//   auto kind = manifest_media_type(resp_media_type, bytes);
//   if (media_types::is_index(*kind)) { auto idx = parse_index(bytes, *kind); ... }

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "image/registry/media_types.hpp"
#include "image/registry/platform.hpp"

namespace ringcri::image {

// A pointer to content: what it is, its digest and its size.
struct descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  std::int64_t size = 0;
  std::optional<image::platform> platform;  // index entries
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
};

// An OCI image index or a Docker manifest list.
struct image_index {
  std::string media_type;
  std::vector<descriptor> manifests;
};

// An OCI image manifest or a Docker schema 2 manifest.
struct image_manifest {
  std::string media_type;
  descriptor config;
  std::vector<descriptor> layers;
};

// The media type of manifest bytes: the one the registry named
// (Content-Type, parameters dropped), else the document's own mediaType,
// else what its fields show (OCI allows both to be absent: "manifests"
// means an index, "config" a manifest). UNIMPLEMENTED for Docker schema 1,
// FAILED_PRECONDITION when it is no kind of manifest.
result<std::string> manifest_media_type(std::string_view content_type, std::string_view bytes);

// INVALID_ARGUMENT saying what is wrong: not JSON, schemaVersion not 2, a
// mediaType field that disagrees with `media_type`, a descriptor without a
// valid sha256 digest or with a negative size.
result<image_index> parse_index(std::string_view bytes, std::string_view media_type);
// Also FAILED_PRECONDITION when the config is not an image config (the
// manifest is some other artifact).
result<image_manifest> parse_manifest(std::string_view bytes, std::string_view media_type);

// The manifest of `index` for `want` (by default this host); attestation
// and other non-image entries are skipped. NOT_FOUND listing the platforms
// the index has when none fits.
result<descriptor> choose_manifest(const image_index& index,
                                   const platform& want = host_platform());

}  // namespace ringcri::image
