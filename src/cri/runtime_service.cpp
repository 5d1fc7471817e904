#include "cri/runtime_service.hpp"

#include <fmt/format.h>

#include "cri/dispatch.hpp"
#include "cri/event_stream.hpp"
#include "cri/rpc/handlers.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;
using call_context = grpc::CallbackServerContext;

namespace {

// What is still to be built, named in every UNIMPLEMENTED answer.
constexpr const char* missing_resources =
    "pod-level resources are the kubelet's to set on the pod cgroup; use UpdateContainerResources";
constexpr const char* missing_checkpoint = "checkpoint and restore are not supported by ringcri";
constexpr const char* missing_list_streaming =
    "list streaming (CRIListStreaming) is not supported; use the List RPCs";

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

// RunPodSandbox makes a new pod: any reactor will do (nothing else knows
// the id yet).
grpc::ServerUnaryReactor* runtime_service::RunPodSandbox(call_context* call, const v1::RunPodSandboxRequest* req,
                                                         v1::RunPodSandboxResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::run_pod_sandbox);
}

grpc::ServerUnaryReactor* runtime_service::StopPodSandbox(call_context* call,
                                                          const v1::StopPodSandboxRequest* req,
                                                          v1::StopPodSandboxResponse* resp) {
  auto id = ctx_.state.resolve_pod(req->pod_sandbox_id());
  if (!id) return finish_now(call, id.error());
  return dispatch(ctx_, call, req, resp, ctx_.core_of(*id), &rpc::stop_pod_sandbox);
}

grpc::ServerUnaryReactor* runtime_service::RemovePodSandbox(call_context* call,
                                                            const v1::RemovePodSandboxRequest* req,
                                                            v1::RemovePodSandboxResponse* resp) {
  auto id = ctx_.state.resolve_pod(req->pod_sandbox_id());
  // Unknown: the handler answers (removal is idempotent).
  return dispatch(ctx_, call, req, resp, id ? ctx_.core_of(*id) : ctx_.any_core(), &rpc::remove_pod_sandbox);
}

grpc::ServerUnaryReactor* runtime_service::CreateContainer(call_context* call,
                                                           const v1::CreateContainerRequest* req,
                                                           v1::CreateContainerResponse* resp) {
  auto id = ctx_.state.resolve_pod(req->pod_sandbox_id());
  if (!id) return finish_now(call, id.error());
  return dispatch(ctx_, call, req, resp, ctx_.core_of(*id), &rpc::create_container);
}

// The pod's core, or (unknown pod) any, where the handler answers NOT_FOUND.
unsigned runtime_service::core_of_pod(const std::string& id_or_prefix) {
  auto id = ctx_.state.resolve_pod(id_or_prefix);
  return id ? ctx_.core_of(*id) : ctx_.any_core();
}

// The container's pod's core, or (unknown container) any, where the
// handler answers NOT_FOUND.
unsigned runtime_service::core_of_container(const std::string& id_or_prefix) {
  auto id = ctx_.state.resolve_container(id_or_prefix);
  if (!id) return ctx_.any_core();
  auto c = ctx_.state.get_container(*id);
  return c ? ctx_.core_of(sandbox_id{c->pod_sandbox_id()}) : ctx_.any_core();
}

grpc::ServerUnaryReactor* runtime_service::StartContainer(call_context* call,
                                                          const v1::StartContainerRequest* req,
                                                          v1::StartContainerResponse* resp) {
  return dispatch(ctx_, call, req, resp, core_of_container(req->container_id()), &rpc::start_container);
}

grpc::ServerUnaryReactor* runtime_service::StopContainer(call_context* call, const v1::StopContainerRequest* req,
                                                         v1::StopContainerResponse* resp) {
  return dispatch(ctx_, call, req, resp, core_of_container(req->container_id()), &rpc::stop_container);
}

grpc::ServerUnaryReactor* runtime_service::RemoveContainer(call_context* call,
                                                           const v1::RemoveContainerRequest* req,
                                                           v1::RemoveContainerResponse* resp) {
  return dispatch(ctx_, call, req, resp, core_of_container(req->container_id()), &rpc::remove_container);
}

grpc::ServerUnaryReactor* runtime_service::ReopenContainerLog(call_context* call,
                                                              const v1::ReopenContainerLogRequest* req,
                                                              v1::ReopenContainerLogResponse* resp) {
  return dispatch(ctx_, call, req, resp, core_of_container(req->container_id()), &rpc::reopen_container_log);
}

grpc::ServerUnaryReactor* runtime_service::ExecSync(call_context* call, const v1::ExecSyncRequest* req,
                                                    v1::ExecSyncResponse* resp) {
  return dispatch(ctx_, call, req, resp, core_of_container(req->container_id()), &rpc::exec_sync);
}

// Exec, Attach and PortForward answer with a URL of the streaming server.
grpc::ServerUnaryReactor* runtime_service::Exec(call_context* call, const v1::ExecRequest* req,
                                                v1::ExecResponse* resp) {
  return dispatch(ctx_, call, req, resp, core_of_container(req->container_id()), &rpc::exec);
}

grpc::ServerUnaryReactor* runtime_service::Attach(call_context* call, const v1::AttachRequest* req,
                                                  v1::AttachResponse* resp) {
  return dispatch(ctx_, call, req, resp, core_of_container(req->container_id()), &rpc::attach);
}

grpc::ServerUnaryReactor* runtime_service::PortForward(call_context* call, const v1::PortForwardRequest* req,
                                                       v1::PortForwardResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::port_forward);
}

// --- resources and stats ------------------------------------------------------

grpc::ServerUnaryReactor* runtime_service::UpdateContainerResources(call_context* call,
                                                                    const v1::UpdateContainerResourcesRequest* req,
                                                                    v1::UpdateContainerResourcesResponse* resp) {
  return dispatch(ctx_, call, req, resp, core_of_container(req->container_id()), &rpc::update_container_resources);
}

grpc::ServerUnaryReactor* runtime_service::ContainerStats(call_context* call, const v1::ContainerStatsRequest* req,
                                                          v1::ContainerStatsResponse* resp) {
  return dispatch(ctx_, call, req, resp, core_of_container(req->container_id()), &rpc::container_stats);
}

grpc::ServerUnaryReactor* runtime_service::ListContainerStats(call_context* call,
                                                              const v1::ListContainerStatsRequest* req,
                                                              v1::ListContainerStatsResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::list_container_stats);
}

grpc::ServerUnaryReactor* runtime_service::PodSandboxStats(call_context* call, const v1::PodSandboxStatsRequest* req,
                                                           v1::PodSandboxStatsResponse* resp) {
  return dispatch(ctx_, call, req, resp, core_of_pod(req->pod_sandbox_id()), &rpc::pod_sandbox_stats);
}

grpc::ServerUnaryReactor* runtime_service::ListPodSandboxStats(call_context* call,
                                                               const v1::ListPodSandboxStatsRequest* req,
                                                               v1::ListPodSandboxStatsResponse* resp) {
  return dispatch(ctx_, call, req, resp, ctx_.any_core(), &rpc::list_pod_sandbox_stats);
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

RINGCRI_NOT_BUILT(UpdatePodSandboxResources, missing_resources)
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
grpc::ServerWriteReactor<v1::ContainerEventResponse>* runtime_service::GetContainerEvents(
    call_context*, const v1::GetEventsRequest*) {
  return new event_stream(ctx_.events);
}

}  // namespace ringcri::cri
