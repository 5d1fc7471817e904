#include "cri/metrics/rpc_metrics.hpp"

#include <chrono>
#include <string_view>

#include "metrics/daemon_metrics.hpp"

namespace ringcri::cri {

namespace {

using grpc::experimental::InterceptionHookPoints;

class rpc_metrics_interceptor final : public grpc::experimental::Interceptor {
 public:
  explicit rpc_metrics_interceptor(grpc::experimental::ServerRpcInfo* info)
      : started_(std::chrono::steady_clock::now()) {
    // "/runtime.v1.RuntimeService/RunPodSandbox"
    std::string_view full = info->method() != nullptr ? info->method() : "";
    auto slash = full.rfind('/');
    method_ = slash == std::string_view::npos ? full : full.substr(slash + 1);
    auto service = slash == std::string_view::npos ? std::string_view{} : full.substr(0, slash);
    if (auto dot = service.rfind('.'); dot != std::string_view::npos) service = service.substr(dot + 1);
    if (!service.empty() && service.front() == '/') service.remove_prefix(1);
    service_ = service;
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      auto took = std::chrono::steady_clock::now() - started_;
      const char* code = status_code_name(methods->GetSendStatus().error_code());
      metrics::cri_request_duration().with({service_, method_}).observe(took);
      metrics::cri_requests().with({service_, method_, code}).add();
    }
    methods->Proceed();
  }

 private:
  std::chrono::steady_clock::time_point started_;
  std::string_view service_, method_;  // in gRPC's method table: lives as long as the server
};

class rpc_metrics_factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new rpc_metrics_interceptor(info);
  }
};

}  // namespace

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> rpc_metrics_interceptors() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> v;
  v.push_back(std::make_unique<rpc_metrics_factory>());
  return v;
}

const char* status_code_name(int code) {
  static constexpr const char* names[] = {
      "OK",        "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS",    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",      "UNIMPLEMENTED",  "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int>(std::size(names))) return names[code];
  return "UNKNOWN";
}

}  // namespace ringcri::cri
