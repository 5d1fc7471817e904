#pragma once
// The media types of OCI and Docker v2 images.

#include <string_view>

namespace ringcri::image::media_types {

inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view oci_layer_nondistributable =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view oci_layer_nondistributable_gzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view oci_layer_nondistributable_zstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

inline constexpr std::string_view docker_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_schema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view docker_schema1_signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view docker_layer_gzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view docker_layer_foreign_gzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

// What resolve() asks for, in order of preference.
inline constexpr std::string_view manifest_accept =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

inline bool is_index(std::string_view mt) { return mt == oci_index || mt == docker_list; }
inline bool is_manifest(std::string_view mt) { return mt == oci_manifest || mt == docker_manifest; }
inline bool is_config(std::string_view mt) { return mt == oci_config || mt == docker_config; }

}  // namespace ringcri::image::media_types
