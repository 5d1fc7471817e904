#pragma once
// Where a pod's and a container's files live.
//
//   <state>/pods/<id>/               held namespaces (ns/), hosts, resolv.conf, hostname
//   <root>/containers/<id>/upper     the container's writable layer
//   <root>/containers/<id>/work      overlayfs's work dir
//   <root>/containers/<id>/rootfs    where the overlay is mounted (in the container's mount ns only)
//   <root>/containers/<id>/exit      the keeper's record of the exit
//   <root>/mount-points/             a layer on top of the image's (mount_point_layer.hpp)
//
// The writable layer is under root because it is data (it can be large and
// should survive what /run does not); namespaces are under state because
// they die with the node.

#include <filesystem>
#include <string>

#include "config/config.hpp"

namespace ringcri::cri {

inline std::filesystem::path pod_dir_of(const config::config& cfg, const std::string& pod_id) {
  return cfg.state_dir / "pods" / pod_id;
}

inline std::filesystem::path container_dir_of(const config::config& cfg, const std::string& container_id) {
  return cfg.root_dir / "containers" / container_id;
}

inline std::filesystem::path mount_point_layer_of(const config::config& cfg) {
  return cfg.root_dir / "mount-points";
}

inline std::filesystem::path exit_path_of(const config::config& cfg, const std::string& container_id) {
  return container_dir_of(cfg, container_id) / "exit";
}

}  // namespace ringcri::cri
