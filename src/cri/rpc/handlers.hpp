#pragma once
// The RPC handlers, one file each under rpc/. Each runs as a task on the
// reactor that dispatch() picked, fills the response, and returns an error
// when the request fails.

#include "api.pb.h"
#include "cri/context.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri::rpc {

namespace v1 = ::runtime::v1;
using reactor::task;

task<result<void>> version(context&, const v1::VersionRequest&, v1::VersionResponse&);
task<result<void>> status(context&, const v1::StatusRequest&, v1::StatusResponse&);
task<result<void>> runtime_config(context&, const v1::RuntimeConfigRequest&, v1::RuntimeConfigResponse&);
task<result<void>> update_runtime_config(context&, const v1::UpdateRuntimeConfigRequest&,
                                         v1::UpdateRuntimeConfigResponse&);

task<result<void>> pod_sandbox_status(context&, const v1::PodSandboxStatusRequest&,
                                      v1::PodSandboxStatusResponse&);
task<result<void>> list_pod_sandbox(context&, const v1::ListPodSandboxRequest&,
                                    v1::ListPodSandboxResponse&);
task<result<void>> container_status(context&, const v1::ContainerStatusRequest&,
                                    v1::ContainerStatusResponse&);
task<result<void>> list_containers(context&, const v1::ListContainersRequest&,
                                   v1::ListContainersResponse&);

task<result<void>> run_pod_sandbox(context&, const v1::RunPodSandboxRequest&, v1::RunPodSandboxResponse&);
task<result<void>> stop_pod_sandbox(context&, const v1::StopPodSandboxRequest&, v1::StopPodSandboxResponse&);
task<result<void>> remove_pod_sandbox(context&, const v1::RemovePodSandboxRequest&,
                                      v1::RemovePodSandboxResponse&);
task<result<void>> create_container(context&, const v1::CreateContainerRequest&, v1::CreateContainerResponse&);
task<result<void>> start_container(context&, const v1::StartContainerRequest&, v1::StartContainerResponse&);
task<result<void>> stop_container(context&, const v1::StopContainerRequest&, v1::StopContainerResponse&);
task<result<void>> remove_container(context&, const v1::RemoveContainerRequest&, v1::RemoveContainerResponse&);
task<result<void>> reopen_container_log(context&, const v1::ReopenContainerLogRequest&,
                                        v1::ReopenContainerLogResponse&);
task<result<void>> exec_sync(context&, const v1::ExecSyncRequest&, v1::ExecSyncResponse&);
task<result<void>> exec(context&, const v1::ExecRequest&, v1::ExecResponse&);
task<result<void>> attach(context&, const v1::AttachRequest&, v1::AttachResponse&);
task<result<void>> port_forward(context&, const v1::PortForwardRequest&, v1::PortForwardResponse&);

task<result<void>> update_container_resources(context&, const v1::UpdateContainerResourcesRequest&,
                                              v1::UpdateContainerResourcesResponse&);
task<result<void>> update_pod_sandbox_resources(context&,
                                                const v1::UpdatePodSandboxResourcesRequest&,
                                                v1::UpdatePodSandboxResourcesResponse&);
task<result<void>> container_stats(context&, const v1::ContainerStatsRequest&, v1::ContainerStatsResponse&);
task<result<void>> list_container_stats(context&, const v1::ListContainerStatsRequest&,
                                        v1::ListContainerStatsResponse&);
task<result<void>> pod_sandbox_stats(context&, const v1::PodSandboxStatsRequest&, v1::PodSandboxStatsResponse&);
task<result<void>> list_pod_sandbox_stats(context&, const v1::ListPodSandboxStatsRequest&,
                                          v1::ListPodSandboxStatsResponse&);
task<result<void>> list_metric_descriptors(context&, const v1::ListMetricDescriptorsRequest&,
                                           v1::ListMetricDescriptorsResponse&);
task<result<void>> list_pod_sandbox_metrics(context&, const v1::ListPodSandboxMetricsRequest&,
                                            v1::ListPodSandboxMetricsResponse&);
task<result<void>> image_fs_info(context&, const v1::ImageFsInfoRequest&, v1::ImageFsInfoResponse&);
task<result<void>> pull_image(context&, const v1::PullImageRequest&, v1::PullImageResponse&);
task<result<void>> list_images(context&, const v1::ListImagesRequest&, v1::ListImagesResponse&);
task<result<void>> image_status(context&, const v1::ImageStatusRequest&, v1::ImageStatusResponse&);
task<result<void>> remove_image(context&, const v1::RemoveImageRequest&, v1::RemoveImageResponse&);

}  // namespace ringcri::cri::rpc
