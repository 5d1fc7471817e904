#include "cri/rpc/handlers.hpp"
#include "version.hpp"

namespace ringcri::cri::rpc {

task<result<void>> version(context&, const v1::VersionRequest&, v1::VersionResponse& resp) {
  resp.set_version("0.1.0");  // the kubelet runtime API version, as every CRI runtime answers
  resp.set_runtime_name("ringcri");
  resp.set_runtime_version(ringcri::version);
  resp.set_runtime_api_version("v1");
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
