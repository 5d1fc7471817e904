#pragma once
// Writing pod and container records to the store (durable before the RPC
// answers), and dropping them.

#include "cri/context.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

inline reactor::task<result<void>> persist(context& ctx, const records::pod_sandbox& pod) {
  return ctx.store.put(pods_kind, pod.id(), pod.SerializeAsString());
}

inline reactor::task<result<void>> persist(context& ctx, const records::container& c) {
  return ctx.store.put(containers_kind, c.id(), c.SerializeAsString());
}

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace ringcri::cri
