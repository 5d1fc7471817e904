#pragma once
// Named crash points, as FoundationDB's and etcd's failpoints: markers at
// the steps of the lifecycle RPCs, pulls, the record store and the keeper
// where a process of ours may die, so that a test can kill it exactly
// there and check what a restart finds.
//
//   crash_point(point("run_pod_sandbox.after_cni_add"));
//
// RINGCRI_CRASH_AT=<name>[:<nth>] in the environment (read at start; the
// keeper inherits it from the daemon) makes the process SIGKILL itself the
// nth time (default the first) it passes that point. Built in only with
// -Dcrash_points=true (on for the test build, off in a release build);
// otherwise crash_point() is nothing. A name not in crash_points() does
// not compile. `ringcri --list-crash-points` prints them.

#include <array>
#include <cstddef>
#include <string_view>

namespace ringcri {

// Every crash point, by name.
inline constexpr std::array crash_point_names = {
    std::string_view("run_pod_sandbox.after_intent"),
    std::string_view("run_pod_sandbox.after_resources"),
    std::string_view("run_pod_sandbox.after_cni_add"),
    std::string_view("run_pod_sandbox.after_init"),
    std::string_view("run_pod_sandbox.after_record"),
    std::string_view("ipam_store.before_link"),
    std::string_view("create_container.after_intent"),
    std::string_view("create_container.after_cgroup"),
    std::string_view("create_container.after_keeper_create"),
    std::string_view("create_container.after_record"),
    std::string_view("start_container.after_keeper_start"),
    std::string_view("start_container.after_record"),
    std::string_view("stop_container.after_signal"),
    std::string_view("stop_container.after_exit_recorded"),
    std::string_view("remove_container.after_keeper_remove"),
    std::string_view("remove_container.after_resources"),
    std::string_view("stop_pod_sandbox.after_containers"),
    std::string_view("stop_pod_sandbox.after_cni_del"),
    std::string_view("remove_pod_sandbox.after_containers"),
    std::string_view("remove_pod_sandbox.after_resources"),
    std::string_view("remove_pod_sandbox.after_record"),
    std::string_view("pull_image.after_layer_commit"),
    std::string_view("pull_image.after_image_record"),
    std::string_view("atomic_write.before_rename"),
    std::string_view("atomic_write.after_rename"),
    std::string_view("record_journal.before_sync"),
    std::string_view("record_journal.after_sync"),
    std::string_view("record_journal.before_new_generation"),
    std::string_view("spawner.after_clone"),
    std::string_view("keeper.after_clone"),
    std::string_view("keeper.after_start"),
    std::string_view("keeper.after_exit_record"),
};

struct crash_point_id {
  std::size_t index;
};

// The point named `name`; a name not in crash_point_names does not compile.
consteval crash_point_id point(std::string_view name) {
  for (std::size_t i = 0; i < crash_point_names.size(); ++i)
    if (crash_point_names[i] == name) return crash_point_id{i};
  throw "no crash point of that name: add it to crash_point_names";
}

#ifdef RINGCRI_CRASH_POINTS
// Dies here (SIGKILL) when armed for this point and its count is reached.
void crash_point(crash_point_id id);
#else
inline void crash_point(crash_point_id) {}
#endif

// Reads RINGCRI_CRASH_AT; false (and why in `error`) when it names no
// point. Call once at start, before any thread.
bool arm_crash_point_from_environment(std::string_view& error);

// Unarms this process (a copy forked from an armed one, which should not
// die at the same point again).
void disarm_crash_point();

// Whether this build has crash points.
bool crash_points_built();

}  // namespace ringcri
