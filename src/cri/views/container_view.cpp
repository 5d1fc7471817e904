#include "cri/views/container_view.hpp"

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

namespace ringcri::cri {

namespace v1 = ::runtime::v1;

v1::Container container_of(const records::container& c) {
  v1::Container out;
  out.set_id(c.id());
  out.set_pod_sandbox_id(c.pod_sandbox_id());
  *out.mutable_metadata() = c.config().metadata();
  *out.mutable_image() = c.config().image();
  out.set_image_ref(c.image_id());
  out.set_image_id(c.image_id());
  out.set_state(c.state());
  out.set_created_at(c.created_at());
  *out.mutable_labels() = c.config().labels();
  *out.mutable_annotations() = c.config().annotations();
  return out;
}

v1::ContainerStatus container_status_of(const records::container& c) {
  v1::ContainerStatus out;
  out.set_id(c.id());
  *out.mutable_metadata() = c.config().metadata();
  out.set_state(c.state());
  out.set_created_at(c.created_at());
  out.set_started_at(c.started_at());
  out.set_finished_at(c.finished_at());
  out.set_exit_code(c.exit_code());
  *out.mutable_image() = c.config().image();
  out.set_image_ref(c.image_id());
  out.set_image_id(c.image_id());
  out.set_reason(c.reason());
  out.set_message(c.message());
  *out.mutable_labels() = c.config().labels();
  *out.mutable_annotations() = c.config().annotations();
  *out.mutable_mounts() = c.config().mounts();
  out.set_log_path(c.log_path());
  if (c.has_user()) *out.mutable_user()->mutable_linux() = c.user();
  // The limits as created and last updated (kubelet's in-place resize reads them).
  if (c.config().linux().has_resources())
    *out.mutable_resources()->mutable_linux() = c.config().linux().resources();
  return out;
}

// What `crictl inspect` shows under "info": the keys containerd uses
// (sandboxID, pid, runtimeSpec, ...), so what people know carries over.
std::string container_info(const records::container& c) {
  nlohmann::json info;
  info["sandboxID"] = c.pod_sandbox_id();
  info["pid"] = c.pid();
  info["cgroupPath"] = c.cgroup_path();
  info["logPath"] = c.log_path();
  info["stopSignal"] = c.stop_signal();
  auto spec = nlohmann::json::parse(c.spec_json(), nullptr, false);
  if (!spec.is_discarded()) info["runtimeSpec"] = std::move(spec);
  std::string config;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(c.config(), &config, options);
  auto parsed = nlohmann::json::parse(config, nullptr, false);
  if (!parsed.is_discarded()) info["config"] = std::move(parsed);
  return info.dump();
}

}  // namespace ringcri::cri
