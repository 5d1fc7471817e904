#include "cri/rpc/handlers.hpp"

namespace ringcri::cri::rpc {

task<result<void>> runtime_config(context& ctx, const v1::RuntimeConfigRequest&,
                                  v1::RuntimeConfigResponse& resp) {
  resp.mutable_linux()->set_cgroup_driver(ctx.cfg.cgroup_driver == "systemd" ? v1::SYSTEMD
                                                                             : v1::CGROUPFS);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
