#include "cri/rpc/handlers.hpp"
#include "cri/stats/metric_table.hpp"

namespace ringcri::cri::rpc {

// Every metric ListPodSandboxMetrics can send (stats/metric_table.hpp); the
// kubelet asks once, at start, and drops samples of any other name.
task<result<void>> list_metric_descriptors(context&, const v1::ListMetricDescriptorsRequest&,
                                           v1::ListMetricDescriptorsResponse& resp) {
  for (const auto& info : stats::metric_table())
    *resp.add_descriptors() = stats::descriptor_of(info);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
