#pragma once
// The legal state changes of pod sandboxes and containers.
//
//   pod:       READY -> NOTREADY, NOTREADY -> NOTREADY (stop is idempotent).
//              A stopped pod never becomes READY again: kubelet makes a new one.
//   container: CREATED -> RUNNING | EXITED, RUNNING -> EXITED,
//              any -> UNKNOWN, UNKNOWN -> RUNNING | EXITED,
//              EXITED -> EXITED (stop is idempotent).
//
// Everything else (including a state value the enum does not name) is refused.

#include <string>

#include "api.pb.h"
#include "base/error.hpp"
#include "cri/state/ids.hpp"

namespace ringcri::cri::state {

bool pod_transition_allowed(runtime::v1::PodSandboxState from, runtime::v1::PodSandboxState to);
bool container_transition_allowed(runtime::v1::ContainerState from, runtime::v1::ContainerState to);

// FAILED_PRECONDITION naming the object and both states when the change is
// illegal, e.g. `container "<id>" is in CONTAINER_EXITED state, cannot
// become CONTAINER_RUNNING`.
result<void> check_pod_transition(const sandbox_id& id, runtime::v1::PodSandboxState from,
                                  runtime::v1::PodSandboxState to);
result<void> check_container_transition(const container_id& id, runtime::v1::ContainerState from,
                                        runtime::v1::ContainerState to);

// The enum's own name (SANDBOX_READY, CONTAINER_EXITED), or "state(7)" for a
// value it does not name.
std::string state_name(runtime::v1::PodSandboxState s);
std::string state_name(runtime::v1::ContainerState s);

}  // namespace ringcri::cri::state
