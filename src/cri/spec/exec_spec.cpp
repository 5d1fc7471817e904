#include "cri/spec/exec_spec.hpp"

#include <fmt/format.h>

namespace ringcri::cri::spec {

result<exec::exec_spec> build_exec_spec(const exec::container_spec& container,
                                        const std::vector<std::string>& cmd) {
  if (cmd.empty())
    return fail(error_kind::invalid_argument,
                fmt::format("exec in container {}: no command specified", container.id));
  exec::exec_spec out;
  out.container_id = container.id;
  out.process = container.process;
  out.process.args = cmd;
  out.process.terminal = false;
  out.cgroup_procs = container.cgroup_procs;
  return out;
}

}  // namespace ringcri::cri::spec
