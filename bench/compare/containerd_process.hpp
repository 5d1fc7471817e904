#pragma once
// containerd with its CRI plugin, started for a benchmark as a node would
// run it with runc or crun (through the same runc v2 shim, its BinaryName
// set to the one or the other): its own root, state, socket and CNI
// network under a fresh temporary directory, the loopback registry as a
// plain-HTTP mirror, and the fixture pause image as the sandbox image. The
// destructor stops it and every shim it left, kills what is left in the
// k8s.io cgroups it created (the containers of an interrupted run outlive
// their killed shims), unmounts what it left under its directory and
// removes those k8s.io cgroups, children first.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace ringcri::bench {

// The OCI runtime the shim runs.
enum class oci_runtime { runc, crun };
const char* name_of(oci_runtime runtime);  // "runc", "crun"

class containerd_process {
 public:
  // Why containerd with `runtime` cannot run here (a missing binary), or "".
  static std::string unavailable_reason(oci_runtime runtime);

  // `cni_conf_dir` empty: no pod network (containerd then fails pods
  // that ask for one).
  containerd_process(oci_runtime runtime, const std::string& registry_host,
                     const std::string& sandbox_image, const std::filesystem::path& cni_conf_dir);
  ~containerd_process();
  containerd_process(const containerd_process&) = delete;
  containerd_process& operator=(const containerd_process&) = delete;

  std::filesystem::path socket() const { return dir_.path() / "containerd.sock"; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path log() const { return dir_.path() / "containerd.log"; }
  pid_t pid() const { return pid_; }
  // "containerd 1.6.20...; runc version 1.1.5..." (or crun's).
  static std::string versions(oci_runtime runtime);

 private:
  void stop();
  testing::temp_dir dir_;
  pid_t pid_ = -1;
  std::vector<std::filesystem::path> new_cgroups_;  // k8s.io cgroups not there before it started
};

}  // namespace ringcri::bench
