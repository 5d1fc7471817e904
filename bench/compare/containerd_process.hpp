#pragma once
// containerd with its CRI plugin, started for a benchmark as a node would
// run it with runc: its own root, state, socket and CNI network under a
// fresh temporary directory, the loopback registry as a plain-HTTP mirror,
// and the fixture pause image as the sandbox image. The destructor stops
// it and every shim it left, unmounts what it left under its directory and
// removes the (empty) k8s.io cgroups its pods were put under.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace ringcri::bench {

class containerd_process {
 public:
  // Why containerd cannot run here (a missing binary), or "".
  static std::string unavailable_reason();

  // `cni_conf_dir` empty: no pod network (containerd then fails pods
  // that ask for one).
  containerd_process(const std::string& registry_host, const std::string& sandbox_image,
                     const std::filesystem::path& cni_conf_dir);
  ~containerd_process();
  containerd_process(const containerd_process&) = delete;
  containerd_process& operator=(const containerd_process&) = delete;

  std::filesystem::path socket() const { return dir_.path() / "containerd.sock"; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path log() const { return dir_.path() / "containerd.log"; }
  // "containerd 1.6.20..., runc 1.1.5..."
  static std::string versions();

 private:
  void stop();
  testing::temp_dir dir_;
  pid_t pid_ = -1;
  std::vector<std::filesystem::path> new_cgroups_;  // k8s.io cgroups not there before it started
};

}  // namespace ringcri::bench
