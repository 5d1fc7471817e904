#pragma once
// A pod's network, IPC and UTS namespaces, held without a pause container:
// a short-lived child makes the namespaces, and bind mounts of its
// /proc/self/ns/* files under <pod_dir>/ns/ keep them alive after it exits.
// Containers of the pod join them with setns on those files.
//
// Called from the daemon's blocking pool (the daemon is multi-threaded):
// the child runs only async-signal-safe system calls, on data prepared
// before the clone.

#include <filesystem>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/sys/user_namespace.hpp"

namespace ringcri::exec::sandbox {

struct namespace_request {
  // true: a new namespace for the pod; false: the host's (nothing held).
  bool network = true;
  bool ipc = true;
  bool uts = true;
  // Set in the new UTS namespace; empty keeps the host's name.
  std::string hostname;
  // Non-empty: a user namespace of the pod with these maps, held as
  // <pod_dir>/ns/user, that owns the new network, IPC and UTS namespaces
  // (so the capabilities of the pod's containers apply to them).
  std::vector<sys::id_mapping> uid_mappings{};
  std::vector<sys::id_mapping> gid_mappings{};
};

// Paths of the held namespace files; "" for a namespace shared with the host.
struct held_namespaces {
  std::string network;
  std::string ipc;
  std::string uts;
  std::string user;
};

// Makes <pod_dir> (if missing) and <pod_dir>/ns/{net,ipc,uts,user} for the
// namespaces asked, makes the namespaces (loopback up in the new network
// namespace, the hostname set in the new UTS one) and holds them by bind
// mounts. On failure nothing it made is left behind. A namespace file
// already there (a hold never released, say after a crash) is
// ALREADY_EXISTS: release_namespaces first.
result<held_namespaces> hold_namespaces(const std::filesystem::path& pod_dir,
                                        const namespace_request& req);

// Unmounts and removes what hold_namespaces made under <pod_dir>/ns.
// Idempotent, and needs nothing but the directory (safe after a restart).
result<void> release_namespaces(const std::filesystem::path& pod_dir);

// release_namespaces, then removes <pod_dir> and everything in it. Fails,
// naming it, if anything is still mounted under <pod_dir>, instead of
// deleting through the mount. A missing <pod_dir> is fine.
result<void> remove_pod_dir(const std::filesystem::path& pod_dir);

namespace detail {
// The steps of the holding child, in order; also the step a failure names.
enum class hold_step : int {
  none = 0,
  set_hostname = 1,
  loopback_socket = 2,
  loopback_get_flags = 3,
  loopback_set_flags = 4,
  mount_net = 5,
  mount_ipc = 6,
  mount_uts = 7,
  // With a user namespace: the child joins it, makes the others inside it
  // and opens them for the parent, which mounts them (the child, in the
  // pod's user namespace, may not mount on the host's).
  join_user = 8,
  unshare = 9,
  open_net = 10,
  open_ipc = 11,
  open_uts = 12,
};

// hold_namespaces, with the child failing as if `fail_at` had failed with
// EIO (after doing every step before it). Lets a test check that a failure
// inside the child is undone; hold_step::none is the real thing.
result<held_namespaces> hold_namespaces(const std::filesystem::path& pod_dir,
                                        const namespace_request& req, hold_step fail_at);
}  // namespace detail

}  // namespace ringcri::exec::sandbox
