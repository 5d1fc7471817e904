#pragma once
// What ExecSync and the streaming Exec share: the running container a
// command is for, and the exec spec that runs it there (the container's
// namespaces, cgroup, rootfs, user and environment).

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "cri/context.hpp"
#include "exec/spec.hpp"
#include "reactor/condition.hpp"
#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

struct exec_target {
  std::string container_id;  // the full id
  pid_t pid = 0;             // the container's process (host pid)
  exec::exec_spec spec;
};

// NOT_FOUND for an unknown container, FAILED_PRECONDITION when it is not
// running, INVALID_ARGUMENT for an empty command.
result<exec_target> exec_target_for(context& ctx, const std::string& container_id,
                                    const std::vector<std::string>& cmd);

// The readers of a command's output pipes. After the command exited its
// output may still come for a while: a process it left in the background
// can hold the pipes open for ever, so the readers get two seconds more,
// then they are stopped.
struct output_readers {
  static constexpr auto grace = std::chrono::seconds(2);

  int done = 0;
  reactor::cancellation stop;  // the readers' reads carry it
  reactor::condition changed;

  // Each reader calls this when it reached end of file (or was stopped).
  void one_done() {
    ++done;
    changed.notify_all();
  }
  // Called once the command exited and our write ends are closed: waits
  // for `count` readers, at most `grace`, then stops the rest.
  reactor::task<void> drain(int count);
};

// NOT_FOUND / FAILED_PRECONDITION as above; the record of a running container.
result<records::container> running_container(context& ctx, const std::string& container_id);

}  // namespace ringcri::cri
