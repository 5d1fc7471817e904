#include "cri/state/transitions.hpp"

#include <fmt/format.h>

namespace ringcri::cri::state {

using runtime::v1::ContainerState;
using runtime::v1::PodSandboxState;

bool pod_transition_allowed(PodSandboxState from, PodSandboxState to) {
  if (!runtime::v1::PodSandboxState_IsValid(from) || !runtime::v1::PodSandboxState_IsValid(to))
    return false;
  return to == runtime::v1::SANDBOX_NOTREADY;  // from READY, or again from NOTREADY
}

bool container_transition_allowed(ContainerState from, ContainerState to) {
  if (!runtime::v1::ContainerState_IsValid(from) || !runtime::v1::ContainerState_IsValid(to))
    return false;
  switch (to) {
    case runtime::v1::CONTAINER_UNKNOWN:
      return true;  // we lost track: from anywhere
    case runtime::v1::CONTAINER_EXITED:
      return true;  // stops, failed starts and exits
    case runtime::v1::CONTAINER_RUNNING:
      return from == runtime::v1::CONTAINER_CREATED || from == runtime::v1::CONTAINER_UNKNOWN;
    default:
      return false;  // nothing goes back to CREATED
  }
}

result<void> check_pod_transition(const sandbox_id& id, PodSandboxState from, PodSandboxState to) {
  if (pod_transition_allowed(from, to)) return {};
  return fail(error_kind::failed_precondition,
              fmt::format("pod sandbox \"{}\" is in {} state, cannot become {}", id.value,
                          state_name(from), state_name(to)));
}

result<void> check_container_transition(const container_id& id, ContainerState from,
                                        ContainerState to) {
  if (container_transition_allowed(from, to)) return {};
  return fail(error_kind::failed_precondition,
              fmt::format("container \"{}\" is in {} state, cannot become {}", id.value,
                          state_name(from), state_name(to)));
}

std::string state_name(PodSandboxState s) {
  if (!runtime::v1::PodSandboxState_IsValid(s))
    return fmt::format("state({})", static_cast<int>(s));
  return runtime::v1::PodSandboxState_Name(s);
}

std::string state_name(ContainerState s) {
  if (!runtime::v1::ContainerState_IsValid(s)) return fmt::format("state({})", static_cast<int>(s));
  return runtime::v1::ContainerState_Name(s);
}

}  // namespace ringcri::cri::state
