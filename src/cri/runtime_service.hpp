#pragma once
// runtime.v1.RuntimeService: routes each RPC to its handler (rpc/*.cpp) on
// the reactor that owns the pod, or answers what is not built yet.

#include "api.grpc.pb.h"
#include "cri/context.hpp"

namespace ringcri::cri {

class runtime_service final : public ::runtime::v1::RuntimeService::CallbackService {
 public:
  explicit runtime_service(context& ctx) : ctx_(ctx) {}

#define RINGCRI_UNARY(rpc) \
  grpc::ServerUnaryReactor* rpc(grpc::CallbackServerContext*, const ::runtime::v1::rpc##Request*, \
                                ::runtime::v1::rpc##Response*) override;
#define RINGCRI_STREAM(rpc, request, response)                                  \
  grpc::ServerWriteReactor<::runtime::v1::response>* rpc(grpc::CallbackServerContext*, \
                                                          const ::runtime::v1::request*) override;
  RINGCRI_UNARY(Version)
  RINGCRI_UNARY(Status)
  RINGCRI_UNARY(RuntimeConfig)
  RINGCRI_UNARY(UpdateRuntimeConfig)
  RINGCRI_UNARY(RunPodSandbox)
  RINGCRI_UNARY(StopPodSandbox)
  RINGCRI_UNARY(RemovePodSandbox)
  RINGCRI_UNARY(PodSandboxStatus)
  RINGCRI_UNARY(ListPodSandbox)
  RINGCRI_UNARY(CreateContainer)
  RINGCRI_UNARY(StartContainer)
  RINGCRI_UNARY(StopContainer)
  RINGCRI_UNARY(RemoveContainer)
  RINGCRI_UNARY(ListContainers)
  RINGCRI_UNARY(ContainerStatus)
  RINGCRI_UNARY(UpdateContainerResources)
  RINGCRI_UNARY(ReopenContainerLog)
  RINGCRI_UNARY(ExecSync)
  RINGCRI_UNARY(Exec)
  RINGCRI_UNARY(Attach)
  RINGCRI_UNARY(PortForward)
  RINGCRI_UNARY(ContainerStats)
  RINGCRI_UNARY(ListContainerStats)
  RINGCRI_UNARY(PodSandboxStats)
  RINGCRI_UNARY(ListPodSandboxStats)
  RINGCRI_UNARY(CheckpointContainer)
  RINGCRI_UNARY(CheckpointPod)
  RINGCRI_UNARY(RestorePod)
  RINGCRI_UNARY(ListMetricDescriptors)
  RINGCRI_UNARY(ListPodSandboxMetrics)
  RINGCRI_UNARY(UpdatePodSandboxResources)
  RINGCRI_STREAM(StreamPodSandboxes, StreamPodSandboxesRequest, StreamPodSandboxesResponse)
  RINGCRI_STREAM(StreamContainers, StreamContainersRequest, StreamContainersResponse)
  RINGCRI_STREAM(StreamContainerStats, StreamContainerStatsRequest, StreamContainerStatsResponse)
  RINGCRI_STREAM(StreamPodSandboxStats, StreamPodSandboxStatsRequest, StreamPodSandboxStatsResponse)
  RINGCRI_STREAM(StreamPodSandboxMetrics, StreamPodSandboxMetricsRequest,
                 StreamPodSandboxMetricsResponse)
  RINGCRI_STREAM(GetContainerEvents, GetEventsRequest, ContainerEventResponse)
#undef RINGCRI_UNARY
#undef RINGCRI_STREAM

 private:
  unsigned core_of_pod(const std::string& id_or_prefix);
  unsigned core_of_container(const std::string& id_or_prefix);
  context& ctx_;
};

}  // namespace ringcri::cri
