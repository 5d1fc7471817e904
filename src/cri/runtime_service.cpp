#include "cri/runtime_service.hpp"

#include <fmt/format.h>

#include "cri/dispatch.hpp"
#include "cri/rpc/handlers.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;
using call_context = grpc::CallbackServerContext;

namespace {

// What is still to be built, named in every UNIMPLEMENTED answer.
constexpr const char* missing_sandboxes = "pod sandboxes (held namespaces, keeper) are not built yet";
constexpr const char* missing_containers = "running containers (spawn engine, keeper) is not built yet";
constexpr const char* missing_streaming = "the streaming server (exec, attach, port-forward) is not built yet";
constexpr const char* missing_stats = "container and pod stats from cgroups are not built yet";
constexpr const char* missing_checkpoint = "checkpoint and restore are not supported by ringcri";
constexpr const char* missing_list_streaming =
    "list streaming (CRIListStreaming) is not supported; use the List RPCs";
constexpr const char* missing_events = "container events are not built yet";

error not_built(std::string_view rpc, std::string_view what) {
  return error(error_kind::unimplemented, fmt::format("{}: {}", rpc, what));
}

}  // namespace

#define RINGCRI_NOT_BUILT(rpc, what)                                                            \
  grpc::ServerUnaryReactor* runtime_service::rpc(call_context* call, const v1::rpc##Request*, \
                                                 v1::rpc##Response*) {                        \
    return finish_now(call, not_built(#rpc, what));                                           \
  }
#define RINGCRI_STREAM_NOT_BUILT(rpc, request, response, what)                           \
  grpc::ServerWriteReactor<v1::response>* runtime_service::rpc(call_context*,            \
                                                               const v1::request*) {     \
    return finish_stream_now<v1::response>(not_built(#rpc, what));                       \
  }

// --- answered on any reactor -------------------------------------------------

grpc::ServerUnaryReactor* runtime_service::Version(call_context* call, const v1::VersionRequest* req,
                                                   v1::VersionResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::version);
}

grpc::ServerUnaryReactor* runtime_service::Status(call_context* call, const v1::StatusRequest* req,
                                                  v1::StatusResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::status);
}

grpc::ServerUnaryReactor* runtime_service::RuntimeConfig(call_context* call,
                                                         const v1::RuntimeConfigRequest* req,
                                                         v1::RuntimeConfigResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::runtime_config);
}

grpc::ServerUnaryReactor* runtime_service::UpdateRuntimeConfig(
    call_context* call, const v1::UpdateRuntimeConfigRequest* req, v1::UpdateRuntimeConfigResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::update_runtime_config);
}

grpc::ServerUnaryReactor* runtime_service::ListPodSandbox(call_context* call,
                                                          const v1::ListPodSandboxRequest* req,
                                                          v1::ListPodSandboxResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::list_pod_sandbox);
}

grpc::ServerUnaryReactor* runtime_service::ListContainers(call_context* call,
                                                          const v1::ListContainersRequest* req,
                                                          v1::ListContainersResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::list_containers);
}

// --- answered on the pod's reactor -------------------------------------------

grpc::ServerUnaryReactor* runtime_service::PodSandboxStatus(call_context* call,
                                                            const v1::PodSandboxStatusRequest* req,
                                                            v1::PodSandboxStatusResponse* resp) {
  auto id = ctx_.state.resolve_pod(req->pod_sandbox_id());
  if (!id) return finish_now(call, id.error());
  return dispatch(ctx_, call, req, resp, ctx_.core_of(*id), &rpc::pod_sandbox_status);
}

grpc::ServerUnaryReactor* runtime_service::ContainerStatus(call_context* call,
                                                           const v1::ContainerStatusRequest* req,
                                                           v1::ContainerStatusResponse* resp) {
  auto id = ctx_.state.resolve_container(req->container_id());
  if (!id) return finish_now(call, id.error());
  auto c = ctx_.state.get_container(*id);
  if (!c) return finish_now(call, error(error_kind::not_found,
                                        fmt::format("container \"{}\" not found", req->container_id())));
  return dispatch(ctx_, call, req, resp, ctx_.core_of(sandbox_id{c->pod_sandbox_id()}),
                  &rpc::container_status);
}

// --- stats of an empty runtime -------------------------------------------------

// With no containers there are no stats: the List forms answer empty lists,
// the single ones need a container or pod and say what is missing.
grpc::ServerUnaryReactor* runtime_service::ListContainerStats(call_context* call,
                                                              const v1::ListContainerStatsRequest*,
                                                              v1::ListContainerStatsResponse*) {
  auto* r = call->DefaultReactor();
  r->Finish(grpc::Status::OK);
  return r;
}

grpc::ServerUnaryReactor* runtime_service::ListPodSandboxStats(call_context* call,
                                                               const v1::ListPodSandboxStatsRequest*,
                                                               v1::ListPodSandboxStatsResponse*) {
  auto* r = call->DefaultReactor();
  r->Finish(grpc::Status::OK);
  return r;
}

grpc::ServerUnaryReactor* runtime_service::ListMetricDescriptors(call_context* call,
                                                                 const v1::ListMetricDescriptorsRequest*,
                                                                 v1::ListMetricDescriptorsResponse*) {
  auto* r = call->DefaultReactor();
  r->Finish(grpc::Status::OK);
  return r;
}

grpc::ServerUnaryReactor* runtime_service::ListPodSandboxMetrics(call_context* call,
                                                                 const v1::ListPodSandboxMetricsRequest*,
                                                                 v1::ListPodSandboxMetricsResponse*) {
  auto* r = call->DefaultReactor();
  r->Finish(grpc::Status::OK);
  return r;
}

// --- still to come -------------------------------------------------------------

RINGCRI_NOT_BUILT(RunPodSandbox, missing_sandboxes)
RINGCRI_NOT_BUILT(StopPodSandbox, missing_sandboxes)
RINGCRI_NOT_BUILT(RemovePodSandbox, missing_sandboxes)
RINGCRI_NOT_BUILT(UpdatePodSandboxResources, missing_sandboxes)
RINGCRI_NOT_BUILT(CreateContainer, missing_containers)
RINGCRI_NOT_BUILT(StartContainer, missing_containers)
RINGCRI_NOT_BUILT(StopContainer, missing_containers)
RINGCRI_NOT_BUILT(RemoveContainer, missing_containers)
RINGCRI_NOT_BUILT(UpdateContainerResources, missing_containers)
RINGCRI_NOT_BUILT(ReopenContainerLog, missing_containers)
RINGCRI_NOT_BUILT(ExecSync, missing_containers)
RINGCRI_NOT_BUILT(Exec, missing_streaming)
RINGCRI_NOT_BUILT(Attach, missing_streaming)
RINGCRI_NOT_BUILT(PortForward, missing_streaming)
RINGCRI_NOT_BUILT(ContainerStats, missing_stats)
RINGCRI_NOT_BUILT(PodSandboxStats, missing_stats)
RINGCRI_NOT_BUILT(CheckpointContainer, missing_checkpoint)
RINGCRI_NOT_BUILT(CheckpointPod, missing_checkpoint)
RINGCRI_NOT_BUILT(RestorePod, missing_checkpoint)
RINGCRI_STREAM_NOT_BUILT(StreamPodSandboxes, StreamPodSandboxesRequest, StreamPodSandboxesResponse,
                         missing_list_streaming)
RINGCRI_STREAM_NOT_BUILT(StreamContainers, StreamContainersRequest, StreamContainersResponse,
                         missing_list_streaming)
RINGCRI_STREAM_NOT_BUILT(StreamContainerStats, StreamContainerStatsRequest,
                         StreamContainerStatsResponse, missing_list_streaming)
RINGCRI_STREAM_NOT_BUILT(StreamPodSandboxStats, StreamPodSandboxStatsRequest,
                         StreamPodSandboxStatsResponse, missing_list_streaming)
RINGCRI_STREAM_NOT_BUILT(StreamPodSandboxMetrics, StreamPodSandboxMetricsRequest,
                         StreamPodSandboxMetricsResponse, missing_list_streaming)
RINGCRI_STREAM_NOT_BUILT(GetContainerEvents, GetEventsRequest, ContainerEventResponse, missing_events)

}  // namespace ringcri::cri
