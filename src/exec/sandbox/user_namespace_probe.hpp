#pragma once
// Whether this node can run pods in user namespaces (hostUsers: false):
// a user namespace can be made, and idmapped mounts work on the file
// system of the root dir (layers, upper dirs) and on tmpfs (the pod's
// files on a tmpfs state dir, kubelet's secrets and tokens). Nothing is
// left behind: the mounts tried are detached and never attached.

#include <filesystem>
#include <string>

namespace ringcri::exec::sandbox {

struct user_namespace_support {
  bool supported = false;
  std::string reason;  // why not, when not
};

// Blocking (a clone, a few mount calls): run it off the reactor, once.
user_namespace_support probe_user_namespaces(const std::filesystem::path& root_dir);

}  // namespace ringcri::exec::sandbox
