#pragma once
// puller: one image from a registry onto this node. Resolve the reference
// (index -> this platform's manifest), read the config, then fetch every
// layer not already in the layer store at once (bounded), each streamed
// through digest, decompression and extraction as its bytes arrive: the
// download on the reactor, the unpacking on a blocking-pool thread, joined
// by a bounded pipe so a slow unpack slows the download instead of filling
// memory.
//
// Faults: an outage of the registry (a dropped connection, a failed TLS
// handshake, 429, 5xx) is tried again as retry_policy says, a download
// resuming where it broke; a transfer that receives nothing for
// progress_timeout is given up (DEADLINE_EXCEEDED); content that does not
// match its descriptor fails the pull (FAILED_PRECONDITION); a layer that
// passes the layer_limits fails it (RESOURCE_EXHAUSTED). Whatever fails,
// the layer's partial directory is removed and no image is returned; once
// one layer has failed no new layer is started.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/swappable.hpp"
#include "image/layer_store.hpp"
#include "image/pull/shared_fetches.hpp"
#include "image/registry/image_config.hpp"
#include "image/registry/retry_policy.hpp"
#include "image/source/credentials.hpp"
#include "image/source/reference.hpp"
#include "image/source/registry_hosts.hpp"
#include "image/unpack/layer_limits.hpp"
#include "image/unpack/layer_unpacker.hpp"
#include "reactor/task.hpp"

namespace ringcri::image {

struct pulled_image {
  reference ref;
  std::string id;           // the config's digest: the image id
  std::string repo_digest;  // "<name>@<digest of what the tag resolved to>"
  std::string config_json;
  image_config config;
  std::uint64_t size = 0;   // compressed bytes of config and layers, as registries count
  // What this pull did.
  unsigned layers_fetched = 0;
  unsigned layers_present = 0;
  std::chrono::nanoseconds elapsed{0};
};

struct pull_options {
  layer_limits limits;
  // A transfer that receives no byte for this long is given up, as the
  // kubelet's image pull progress deadline has it; a slow one that moves
  // goes on. 0: never.
  std::chrono::seconds progress_timeout{60};
  retry_policy retry;
};

class puller {
 public:
  puller(registry_settings settings, layer_store& layers, pull_options options = {});
  ~puller();

  reactor::task<result<pulled_image>> pull(const reference& ref, const credentials& creds);
  // Pulls that start from now on use these (a config reload); pulls under
  // way keep theirs.
  void set_settings(registry_settings settings);

 private:
  struct per_thread;
  per_thread& here();
  reactor::task<result<void>> ensure_layer(per_thread& net, const reference& ref,
                                           const credentials& creds, std::string digest,
                                           std::string media_type, std::int64_t size,
                                           std::string diff_id);
  reactor::task<result<void>> fetch_layer(per_thread& net, const reference& ref,
                                          const credentials& creds, std::string digest,
                                          std::string media_type, std::int64_t size,
                                          std::string diff_id);

  reactor::task<result<void>> unpack_into(per_thread& net, const reference& ref, const credentials& creds,
                                          const std::string& layer_digest, std::int64_t size,
                                          const std::string& diff_id, layer_writer& writer,
                                          layer_unpacker& unpacker, std::optional<layer_unpack_result>& out);

  swappable<registry_settings> settings_;
  pull_options options_;
  layer_store& layers_;
  shared_fetches fetches_;
};

}  // namespace ringcri::image
