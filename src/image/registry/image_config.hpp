#pragma once
// The image configuration blob (OCI image config, Docker container image
// v1): what a container of the image runs by default, and the diff ids of
// its layers. History and the rest are ignored.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::image {

struct image_config {
  std::string os;
  std::string architecture;
  std::string variant;
  std::vector<std::string> diff_ids;  // rootfs.diff_ids: sha256 of each uncompressed layer
  std::vector<std::string> env;       // "KEY=value"
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string user;
  std::string stop_signal;
  std::vector<std::string> volumes;  // the keys of config.Volumes, sorted
  std::map<std::string, std::string> labels;
};

// INVALID_ARGUMENT naming the field when the JSON is malformed, rootfs.type
// is not "layers", or a diff id is not a sha256 digest.
result<image_config> parse_image_config(std::string_view bytes);

}  // namespace ringcri::image
