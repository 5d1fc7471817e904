#include "metrics/daemon_metrics.hpp"

namespace ringcri::metrics {

duration_family& cri_request_duration() {
  static duration_family f("ringcri_cri_request_duration_seconds",
                           "Time a CRI call took, from its arrival to its answer.", {"service", "method"});
  return f;
}

counter_family& cri_requests() {
  static counter_family f("ringcri_cri_requests", "CRI calls answered, by gRPC status code.",
                          {"service", "method", "code"});
  return f;
}

duration_family& pod_start_phase() {
  static duration_family f("ringcri_pod_start_phase_duration_seconds",
                           "Time RunPodSandbox spent in each of its steps.", {"phase"});
  return f;
}

duration_family& image_pull_duration() {
  static duration_family f("ringcri_image_pull_duration_seconds", "Time an image pull took, start to end.", {});
  return f;
}

duration_family& image_pull_phase() {
  static duration_family f("ringcri_image_pull_phase_duration_seconds",
                           "Time an image pull spent resolving, and each layer in fetch, digest, decompress, "
                           "write and commit (digest, decompress and write overlap the fetch).",
                           {"phase"});
  return f;
}

counter_family& image_pull_bytes() {
  static counter_family f("ringcri_image_pull_bytes", "Layer bytes fetched from registries (compressed).", {});
  return f;
}

counter_family& image_pulls() {
  static counter_family f("ringcri_image_pulls", "Image pulls finished, by result.", {"result"});
  return f;
}

duration_family& cni_duration() {
  static duration_family f("ringcri_cni_duration_seconds", "Time a pod network's CNI add, del or check took.",
                           {"operation"});
  return f;
}

counter_family& keeper_restarts() {
  static counter_family f("ringcri_keeper_restarts",
                          "Times the link to the keeper broke and was made again (a keeper died and another "
                          "was started).",
                          {});
  return f;
}

void register_daemon_metrics() {
  keeper_restarts().with({});
  cri_request_duration();
  cri_requests();
  for (auto phase : {"intent", "namespaces", "cgroup", "network", "init", "record"}) pod_start_phase().with({phase});
  image_pull_duration().with({});
  for (auto phase : {"resolve", "fetch", "digest", "decompress", "write", "commit"})
    image_pull_phase().with({phase});
  image_pull_bytes().with({});
  for (auto result : {"success", "failure"}) image_pulls().with({result});
  for (auto op : {"add", "del", "check"}) cni_duration().with({op});
}

}  // namespace ringcri::metrics
