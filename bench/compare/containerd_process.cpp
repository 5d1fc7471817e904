#include "containerd_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "interrupt.hpp"
#include "cgroup_tree.hpp"
#include "process_meter.hpp"
#include "support/cri_client.hpp"
#include "support/node_network.hpp"

extern char** environ;

namespace ringcri::bench {

namespace fs = std::filesystem;

namespace {

constexpr const char* containerd_bin = "/usr/bin/containerd";
constexpr const char* shim_bin = "/usr/bin/containerd-shim-runc-v2";
constexpr const char* runc_bin = "/usr/sbin/runc";
constexpr const char* crun_bin = "/usr/bin/crun";

const char* binary_of(oci_runtime runtime) {
  return runtime == oci_runtime::crun ? crun_bin : runc_bin;
}

bool gone(pid_t pid) { return ::kill(pid, 0) != 0; }

// Every pid in the cgroup `dir` and the cgroups under it.
std::vector<pid_t> processes_in(const fs::path& dir) {
  std::vector<pid_t> out;
  std::error_code ec;
  std::vector<fs::path> dirs{dir};
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
  for (const auto& d : dirs) {
    std::ifstream procs(d / "cgroup.procs");
    for (pid_t pid; procs >> pid;) out.push_back(pid);
  }
  return out;
}

}  // namespace

const char* name_of(oci_runtime runtime) { return runtime == oci_runtime::crun ? "crun" : "runc"; }

std::string containerd_process::unavailable_reason(oci_runtime runtime) {
  for (const char* bin : {containerd_bin, shim_bin, binary_of(runtime)})
    if (!fs::exists(bin))
      return std::string(bin) + " is missing (scripts/install-deps.sh --bench installs it)";
  return "";
}

std::string containerd_process::versions(oci_runtime runtime) {
  auto first_line = [](const std::string& cmd) {
    auto out = testing::shell_output(cmd + " 2>/dev/null");
    return out.substr(0, out.find('\n'));
  };
  return first_line(std::string(containerd_bin) + " --version") + "; " +
         first_line(std::string(binary_of(runtime)) + " --version");
}

containerd_process::containerd_process(oci_runtime runtime, const std::string& registry_host,
                                       const std::string& sandbox_image,
                                       const fs::path& cni_conf_dir)
    : dir_("ringcri-bench-containerd") {
  // runc and crun put pods with no cgroup parent under /k8s.io in every
  // hierarchy (with the layout crun is given, in one more: see
  // cgroup_layout_for_crun.hpp).
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup")) {
    auto k8s = h.path() / "k8s.io";
    if (h.is_directory() && !h.is_symlink() && !fs::exists(k8s)) new_cgroups_.push_back(k8s);
  }
  if (fs::exists("/sys/fs/cgroup/cgroup.controllers") && !fs::exists("/sys/fs/cgroup/k8s.io"))
    new_cgroups_.push_back("/sys/fs/cgroup/k8s.io");
  const std::string d = dir_.path().string();
  const std::string cri = "[plugins.\"io.containerd.grpc.v1.cri\"";
  std::ofstream(dir_.path() / "config.toml")
      << "version = 2\n"
      << "root = \"" << d << "/root\"\n"
      << "state = \"" << d << "/state\"\n"
      << "disabled_plugins = [\"io.containerd.snapshotter.v1.btrfs\", "
         "\"io.containerd.snapshotter.v1.zfs\",\n"
      << "  \"io.containerd.snapshotter.v1.devmapper\", \"io.containerd.snapshotter.v1.aufs\"]\n"
      << "[grpc]\n  address = \"" << socket().string() << "\"\n"
      << "[ttrpc]\n  address = \"" << socket().string() << ".ttrpc\"\n"
      << "[debug]\n  address = \"\"\n"
      << "[metrics]\n  address = \"\"\n"
      << "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"" << d << "/opt\"\n"
      << cri << "]\n"
      << "  sandbox_image = \"" << sandbox_image << "\"\n"
      << "  stream_server_address = \"127.0.0.1\"\n"
      << "  stream_server_port = \"0\"\n"
      // The node withholds CAP_SYS_RESOURCE: the runtime cannot lower
      // oom_score_adj below the daemon's own (ringcri clamps the same way).
      << "  restrict_oom_score_adj = true\n"
      << "  netns_mounts_under_state_dir = true\n"
      << cri << ".containerd]\n"
      << "  snapshotter = \"overlayfs\"\n"
      << "  default_runtime_name = \"" << name_of(runtime) << "\"\n"
      << cri << ".containerd.runtimes." << name_of(runtime)
      << "]\n"
      // The runc v2 shim drives crun as well: it only calls the binary.
      << "  runtime_type = \"io.containerd.runc.v2\"\n"
      << cri << ".containerd.runtimes." << name_of(runtime) << ".options]\n"
      << "  BinaryName = \"" << binary_of(runtime) << "\"\n"
      << cri << ".cni]\n"
      << "  bin_dir = \"/usr/lib/cni\"\n"
      << "  conf_dir = \"" << (cni_conf_dir.empty() ? dir_.path() / "net.d" : cni_conf_dir).string()
      << "\"\n"
      << cri << ".registry.mirrors.\"" << registry_host << "\"]\n"
      << "  endpoint = [\"http://" << registry_host << "\"]\n";

  const std::string config = (dir_.path() / "config.toml").string();
  const std::string log_path = log().string();
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
  ::posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args{containerd_bin, "--config", config};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = ::posix_spawn(&pid_, containerd_bin, &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot start containerd: " + std::string(std::strerror(rc)));

  // Up once the CRI answers.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (true) {
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("containerd exited at start; see " + log_path);
    }
    if (fs::exists(socket())) {
      testing::cri_client client(socket(), std::chrono::seconds(2));
      ::runtime::v1::VersionRequest req;
      ::runtime::v1::VersionResponse resp;
      if (client.runtime_call(&::runtime::v1::RuntimeService::Stub::Version, req, &resp).ok())
        break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error("containerd's CRI did not answer within 30 s; see " + log_path);
    }
    if (interrupted()) {
      stop();
      throw interrupted_error();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void containerd_process::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  // Shims outlive containerd by design; the ones still serving a task of
  // ours are ended (the suite removes its pods first, so normally there
  // are none).
  auto shims = processes_with(std::string("-address") + '\0' + socket().string());
  for (pid_t shim : shims) ::kill(shim, SIGKILL);
  for (int i = 0; i < 100 && !std::all_of(shims.begin(), shims.end(), gone); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // A shim killed leaves its containers running: what is still in the
  // cgroups this containerd created is one of them (thawed first, a frozen
  // process does not die).
  std::vector<pid_t> left;
  for (const auto& cgroup : new_cgroups_)
    for (pid_t pid : processes_in(cgroup)) left.push_back(pid);
  if (!left.empty()) {
    for (const auto& cgroup : new_cgroups_) {
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(cgroup, ec); !ec && it != fs::end(it);
           it.increment(ec))
        if (it->path().filename() == "freezer.state") std::ofstream(it->path()) << "THAWED";
    }
    for (pid_t pid : left) ::kill(pid, SIGKILL);
    for (int i = 0; i < 250; ++i) {
      bool empty = true;
      for (const auto& cgroup : new_cgroups_) empty = empty && processes_in(cgroup).empty();
      if (empty) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // Anything still mounted under our directory (rootfs, netns, shm).
  std::ifstream mounts("/proc/self/mounts");
  std::vector<std::string> ours;
  for (std::string dev, point, rest; mounts >> dev >> point && std::getline(mounts, rest);)
    if (point.rfind(dir_.path().string(), 0) == 0) ours.push_back(point);
  std::sort(ours.rbegin(), ours.rend());
  for (const auto& point : ours) ::umount2(point.c_str(), MNT_DETACH);
  for (const auto& cgroup : new_cgroups_) remove_cgroup_tree(cgroup);
}

containerd_process::~containerd_process() { stop(); }

}  // namespace ringcri::bench
