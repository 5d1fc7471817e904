#pragma once
// What the CRI benchmarks share: timing a step, percentiles, tearing a pod
// down, and failing loudly on an RPC error (an exception, so the daemon, its pods and the
// registry are cleaned up on the way out).

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "support/cri_client.hpp"

namespace ringcri::bench {

using clock_type = std::chrono::steady_clock;

inline double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

inline double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

inline void check(const grpc::Status& st, const char* what) {
  if (!st.ok()) throw std::runtime_error(std::string(what) + " failed: " + st.error_message());
}

// StopPodSandbox then RemovePodSandbox, as the kubelet tears a pod down.
inline void stop_and_remove_pod(testing::cri_client& client, const std::string& id) {
  using S = ::runtime::v1::RuntimeService::Stub;
  ::runtime::v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(id);
  ::runtime::v1::StopPodSandboxResponse stopped;
  check(client.runtime_call(&S::StopPodSandbox, stop, &stopped), "StopPodSandbox");
  ::runtime::v1::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(id);
  ::runtime::v1::RemovePodSandboxResponse removed;
  check(client.runtime_call(&S::RemovePodSandbox, remove, &removed), "RemovePodSandbox");
}

}  // namespace ringcri::bench
