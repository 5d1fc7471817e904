#pragma once
// A container's process as the daemon sees it: signals through its pidfd,
// exits as the keeper reports them, and the teardown of what a container
// holds (the keeper's entry, its cgroup, its dirs). Shared by the
// lifecycle RPCs, StopPodSandbox, RemovePodSandbox and start-up.

#include <chrono>

#include "cri/context.hpp"
#include "exec/keeper/client.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

// Records an exit the keeper reported: the container becomes EXITED with
// its code and finish time, durably. Runs on the container's pod core.
reactor::task<void> apply_exit(context& ctx, exec::keeper::exit_status exit);

// For the keeper link's on_exit: hands the exit to the pod's core.
void on_exit_reported(context& ctx, const exec::keeper::exit_status& exit);

// SIGKILL to the process `id` (container or pod init) through the pidfd
// this daemon kept since its create, if any; the pidfd is dropped.
void kill_held_process(context& ctx, const std::string& id);

// The keeper holding the container ended, so nobody holds its output or
// will see its exit: it is killed and ends EXITED with reason KeeperLost
// (code 137), durably, so the kubelet starts it again.
reactor::task<void> lose_with_keeper(context& ctx, const container_id& id);

// Stops a running container: its stop signal, then SIGKILL after
// `timeout` (zero: SIGKILL at once), and returns once it is EXITED in the
// state; then kills whatever is left in its cgroup (what a container
// sharing a pid namespace leaves behind) and waits until none is. A
// container that exited already gets the last step only; a created one
// nothing.
reactor::task<result<void>> stop_container_process(context& ctx, const container_id& id,
                                                    std::chrono::seconds timeout);

// Makes the keeper forget the container (killing it if still alive), kills
// what is left in its cgroup, and removes its cgroup and dirs. Each step tolerates what is already gone.
reactor::task<result<void>> remove_container_resources(context& ctx, const records::container& c);

}  // namespace ringcri::cri
