#pragma once
// Every metric the daemon keeps counts of, in one place: names, help and
// labels, as /metrics shows them (README, "Metrics"). Gauges read at the
// scrape (pods, containers, images, the keeper, the process) are in
// cri/metrics/node_gauges.cpp.

#include "metrics/instrument.hpp"

namespace ringcri::metrics {

// ringcri_cri_request_duration_seconds{service,method}: every CRI call,
// from gRPC handing it over to the answer.
duration_family& cri_request_duration();
// ringcri_cri_requests_total{service,method,code}: answers by gRPC code.
counter_family& cri_requests();

// ringcri_pod_start_phase_duration_seconds{phase}: RunPodSandbox's steps:
// intent (the crash note), namespaces (pod dir, namespaces, /etc files),
// cgroup, network (CNI ADD), init (a shared-PID pod's init), record.
duration_family& pod_start_phase();

// ringcri_image_pull_duration_seconds: PullImage's work, start to record.
duration_family& image_pull_duration();
// ringcri_image_pull_phase_duration_seconds{phase}: resolve (manifests and
// config), then per layer: fetch (the transfer), digest, decompress and
// write (overlapping the fetch), commit (durable).
duration_family& image_pull_phase();
// ringcri_image_pull_bytes_total: layer bytes as fetched (compressed).
counter_family& image_pull_bytes();
// ringcri_image_pulls_total{result}: "success" or "failure".
counter_family& image_pulls();

// ringcri_cni_duration_seconds{operation}: a pod network's add, del or
// check, plugins run in-process or exec'd alike.
duration_family& cni_duration();

// ringcri_keeper_restarts_total: times the keeper link broke and was made
// again (the keeper died; a new one was started and reconciled).
counter_family& keeper_restarts();

// Makes every family above, and the series whose labels are known ahead
// (phases, operations), so the first scrape lists them at zero.
void register_daemon_metrics();

}  // namespace ringcri::metrics
