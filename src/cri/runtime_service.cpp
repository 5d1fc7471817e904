#include "cri/runtime_service.hpp"

#include "cri/event_stream.hpp"
#include "cri/rpc/handlers.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;

namespace {

// Why an RPC is not offered, named in its UNIMPLEMENTED answer.
constexpr const char* missing_checkpoint = "checkpoint and restore are not supported by ringcri";
constexpr const char* missing_list_streaming =
    "list streaming (CRIListStreaming) is not supported; use the List RPCs";

grpc::ServerWriteReactor<v1::ContainerEventResponse>* open_event_stream(
    context& ctx, const v1::GetEventsRequest&) {
  return new event_stream(ctx.events);
}

}  // namespace

// In api.proto's order. A pod's requests run on its reactor, and so do its
// containers'. For an unknown id, PodSandboxStatus, CreateContainer and
// ContainerStatus answer the lookup's error at once; the others let their
// handler answer (stopping or removing what is gone succeeds, the rest
// say NOT_FOUND themselves). The lifecycle RPCs of one pod take turns
// (dispatch.hpp): a pod's stop and removal alone, its containers' changes
// beside each other but each container's alone.
std::vector<route> runtime_service::routes() {
  using enum unknown_id;
  constexpr turn_kind pod_turn = turn_kind::pod, sibling_turn = turn_kind::pod_shared,
                      container_turn = turn_kind::container;
  // clang-format off
  return {
    unary("Version",                  any_core{},                        &rpc::version),
    // A new pod: nothing else knows its id yet.
    unary("RunPodSandbox",            any_core{},                        &rpc::run_pod_sandbox),
    unary("StopPodSandbox",           pod_core{handler_answers, pod_turn},              &rpc::stop_pod_sandbox),
    unary("RemovePodSandbox",         pod_core{handler_answers, pod_turn},         &rpc::remove_pod_sandbox),
    unary("PodSandboxStatus",         pod_core{answer_now},              &rpc::pod_sandbox_status),
    unary("ListPodSandbox",           any_core{},                        &rpc::list_pod_sandbox),
    stream_not_built<v1::StreamPodSandboxesRequest, v1::StreamPodSandboxesResponse>(
                                      "StreamPodSandboxes",              missing_list_streaming),
    unary("CreateContainer",          pod_core{answer_now, sibling_turn},              &rpc::create_container),
    unary("StartContainer",           container_core{handler_answers, container_turn},   &rpc::start_container),
    unary("StopContainer",            container_core{handler_answers, container_turn},   &rpc::stop_container),
    unary("RemoveContainer",          container_core{handler_answers, container_turn},   &rpc::remove_container),
    unary("ListContainers",           any_core{},                        &rpc::list_containers),
    stream_not_built<v1::StreamContainersRequest, v1::StreamContainersResponse>(
                                      "StreamContainers",                missing_list_streaming),
    unary("ContainerStatus",          container_core{answer_now},        &rpc::container_status),
    unary("UpdateContainerResources", container_core{handler_answers, container_turn},   &rpc::update_container_resources),
    unary("ReopenContainerLog",       container_core{handler_answers},   &rpc::reopen_container_log),
    unary("ExecSync",                 container_core{handler_answers},   &rpc::exec_sync),
    // Exec, Attach and PortForward answer with a URL of the streaming server.
    unary("Exec",                     container_core{handler_answers},   &rpc::exec),
    unary("Attach",                   container_core{handler_answers},   &rpc::attach),
    unary("PortForward",              any_core{},                        &rpc::port_forward),
    unary("ContainerStats",           container_core{handler_answers},   &rpc::container_stats),
    unary("ListContainerStats",       any_core{},                        &rpc::list_container_stats),
    stream_not_built<v1::StreamContainerStatsRequest, v1::StreamContainerStatsResponse>(
                                      "StreamContainerStats",            missing_list_streaming),
    unary("PodSandboxStats",          pod_core{handler_answers},         &rpc::pod_sandbox_stats),
    unary("ListPodSandboxStats",      any_core{},                        &rpc::list_pod_sandbox_stats),
    stream_not_built<v1::StreamPodSandboxStatsRequest, v1::StreamPodSandboxStatsResponse>(
                                      "StreamPodSandboxStats",           missing_list_streaming),
    unary("UpdateRuntimeConfig",      any_core{},                        &rpc::update_runtime_config),
    unary("Status",                   any_core{},                        &rpc::status),
    not_built<v1::CheckpointContainerRequest, v1::CheckpointContainerResponse>(
                                      "CheckpointContainer",             missing_checkpoint),
    not_built<v1::CheckpointPodRequest, v1::CheckpointPodResponse>(
                                      "CheckpointPod",                   missing_checkpoint),
    not_built<v1::RestorePodRequest, v1::RestorePodResponse>(
                                      "RestorePod",                      missing_checkpoint),
    stream("GetContainerEvents",                                         &open_event_stream),
    unary("ListMetricDescriptors",    any_core{},                        &rpc::list_metric_descriptors),
    unary("ListPodSandboxMetrics",    any_core{},                        &rpc::list_pod_sandbox_metrics),
    stream_not_built<v1::StreamPodSandboxMetricsRequest, v1::StreamPodSandboxMetricsResponse>(
                                      "StreamPodSandboxMetrics",         missing_list_streaming),
    unary("RuntimeConfig",            any_core{},                        &rpc::runtime_config),
    unary("UpdatePodSandboxResources", pod_core{handler_answers, pod_turn},  &rpc::update_pod_sandbox_resources),
  };
  // clang-format on
}

}  // namespace ringcri::cri
