#include "cri/state/name_keys.hpp"

#include <fmt/format.h>

namespace ringcri::cri::state {

std::string pod_name_key(const runtime::v1::PodSandboxMetadata& pod) {
  return fmt::format("{}_{}_{}_{}", pod.name(), pod.namespace_(), pod.uid(), pod.attempt());
}

std::string container_name_key(const runtime::v1::ContainerMetadata& container,
                               const runtime::v1::PodSandboxMetadata& pod) {
  return fmt::format("{}_{}_{}_{}_{}", container.name(), pod.name(), pod.namespace_(), pod.uid(),
                     container.attempt());
}

}  // namespace ringcri::cri::state
