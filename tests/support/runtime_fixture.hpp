#pragma once
// What the integration tests of pods and containers share: a daemon with
// the test images pulled from a registry on loopback, and helpers that
// make pods and containers through the CRI socket and check them from
// outside (the log file, mountinfo, the cgroup trees).

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/cri_client.hpp"
#include "support/processes.hpp"
#include "support/registry_fixture.hpp"
#include "support/ringcri_process.hpp"
#include "support/skip.hpp"

namespace ringcri::testing {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;
namespace fs = std::filesystem;
using S = v1::RuntimeService::Stub;

inline void skip_unless_ready() {
  if (::geteuid() != 0) skip_binary("running containers needs root");
  auto why = registry_fixture::unavailable_reason();
  if (!why.empty()) skip_binary(why);
}

inline registry_fixture& registry() {
  skip_unless_ready();
  static registry_fixture r("plain", "busybox,layered,groups");
  return r;
}

inline std::string busybox() { return registry().host() + "/busybox:1"; }
inline std::string layered() { return registry().host() + "/layered:1"; }
// Users of its /etc/group: app (1000) is a member of 50000 and 50001.
inline std::string groups_image() { return registry().host() + "/groups:1"; }

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string ns_link(const std::string& pid, const char* ns) {
  std::error_code ec;
  return fs::read_symlink(fs::path("/proc") / pid / "ns" / ns, ec).string();
}

inline ino_t inode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

// Lines of /proc/self/mountinfo that mention `needle`.
inline std::vector<std::string> mounts_under(const std::string& needle) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

// Every cgroup dir named `name` below any hierarchy's root (depth 1..3).
inline std::vector<fs::path> cgroups_named(const std::string& name) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it.depth() > 3) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec) && it->path().filename() == name) out.push_back(it->path());
  }
  return out;
}

// Waits until no process's command line starts with `needle`; false when
// one still does after `timeout` (a bound for a broken daemon, not a
// duration the test asserts).
inline bool wait_until_gone(const std::string& needle, std::chrono::seconds timeout = 20s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!processes_with(needle).empty()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

struct runtime_fixture {
  // First, before the daemon starts: the skip (exit 77 leaves a started
  // daemon running, and without root it would not start), and the
  // registry with the test images.
  registry_fixture& images = registry();
  ringcri_process daemon;
  cri_client client{daemon.socket()};
  temp_dir logs{"ringcri-logs"};

  // `extra`: more daemon flags, e.g. a --config of the test's own.
  explicit runtime_fixture(std::vector<std::string> extra = {}, std::vector<std::string> env = {})
      : daemon(with_debug_log(std::move(extra)), std::move(env)) {
    v1::PullImageResponse resp;
    for (const auto& image : {busybox(), layered()}) {
      v1::PullImageRequest req;
      req.mutable_image()->set_image(image);
      auto st = client.image_call(&v1::ImageService::Stub::PullImage, req, &resp);
      REQUIRE(st.ok());
    }
  }

  static std::vector<std::string> with_debug_log(std::vector<std::string> extra) {
    extra.insert(extra.begin(), {"--log-level", "debug"});
    return extra;
  }

  v1::PodSandboxConfig pod_config(const std::string& name) {
    v1::PodSandboxConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_metadata()->set_namespace_("default");
    c.mutable_metadata()->set_uid("uid-" + name);
    c.set_hostname(name + "-host");
    c.set_log_directory((logs.path() / name).string());
    // As the kubelet sends it: a pid namespace per container (CRI's zero
    // value, POD, would share one).
    c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
    return c;
  }

  grpc::Status run_pod(const v1::PodSandboxConfig& config, std::string* id) {
    v1::RunPodSandboxRequest req;
    *req.mutable_config() = config;
    v1::RunPodSandboxResponse resp;
    auto st = client.runtime_call(&S::RunPodSandbox, req, &resp);
    *id = resp.pod_sandbox_id();
    return st;
  }

  std::string run_pod(const std::string& name) {
    std::string id;
    auto st = run_pod(pod_config(name), &id);
    INFO(st.error_message());
    REQUIRE(st.ok());
    return id;
  }

  v1::ContainerConfig container_config(const std::string& name, std::vector<std::string> command,
                                       const std::string& image = "") {
    v1::ContainerConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_image()->set_image(image.empty() ? busybox() : image);
    for (auto& a : command) c.add_command(a);
    c.set_log_path(name + ".log");
    c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
    return c;
  }

  grpc::Status create(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                      const v1::ContainerConfig& config, std::string* id) {
    v1::CreateContainerRequest req;
    req.set_pod_sandbox_id(pod);
    *req.mutable_config() = config;
    *req.mutable_sandbox_config() = pod_config;
    v1::CreateContainerResponse resp;
    auto st = client.runtime_call(&S::CreateContainer, req, &resp);
    *id = resp.container_id();
    return st;
  }

  std::string create_and_start(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                               const v1::ContainerConfig& config) {
    std::string id;
    auto st = create(pod, pod_config, config, &id);
    INFO(st.error_message());
    REQUIRE(st.ok());
    st = start(id);
    INFO(st.error_message());
    REQUIRE(st.ok());
    return id;
  }

  // A pod named `name` with one started container running `command`.
  struct pod_and_container {
    v1::PodSandboxConfig pod_config;
    std::string pod;
    std::string container;
  };
  pod_and_container run_pod_with(const std::string& name, std::vector<std::string> command) {
    pod_and_container out;
    out.pod_config = pod_config(name);
    auto st = run_pod(out.pod_config, &out.pod);
    INFO(st.error_message());
    REQUIRE(st.ok());
    out.container = create_and_start(out.pod, out.pod_config, container_config(name, std::move(command)));
    return out;
  }

  grpc::Status start(const std::string& id) {
    v1::StartContainerRequest req;
    req.set_container_id(id);
    v1::StartContainerResponse resp;
    return client.runtime_call(&S::StartContainer, req, &resp);
  }

  grpc::Status stop(const std::string& id, int timeout) {
    v1::StopContainerRequest req;
    req.set_container_id(id);
    req.set_timeout(timeout);
    v1::StopContainerResponse resp;
    return client.runtime_call(&S::StopContainer, req, &resp);
  }

  v1::ContainerStatusResponse status(const std::string& id, bool verbose = false) {
    v1::ContainerStatusRequest req;
    req.set_container_id(id);
    req.set_verbose(verbose);
    v1::ContainerStatusResponse resp;
    auto st = client.runtime_call(&S::ContainerStatus, req, &resp);
    INFO(st.error_message());
    REQUIRE(st.ok());
    return resp;
  }

  nlohmann::json container_info(const std::string& id) {
    auto resp = status(id, true);
    REQUIRE(resp.info().count("info"));
    return nlohmann::json::parse(resp.info().at("info"));
  }

  nlohmann::json pod_info(const std::string& id) {
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(id);
    req.set_verbose(true);
    v1::PodSandboxStatusResponse resp;
    REQUIRE(client.runtime_call(&S::PodSandboxStatus, req, &resp).ok());
    REQUIRE(resp.info().count("info"));
    return nlohmann::json::parse(resp.info().at("info"));
  }

  void pull(const std::string& image) {
    v1::PullImageRequest req;
    req.mutable_image()->set_image(image);
    v1::PullImageResponse resp;
    auto st = client.image_call(&v1::ImageService::Stub::PullImage, req, &resp);
    INFO(st.error_message());
    REQUIRE(st.ok());
  }

  std::string pid_of(const std::string& id) { return std::to_string(container_info(id).at("pid").get<int>()); }

  v1::ContainerStatus wait_exited(const std::string& id, std::chrono::seconds timeout = 20s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto s = status(id).status();
      if (s.state() == v1::CONTAINER_EXITED || std::chrono::steady_clock::now() > deadline) return s;
      std::this_thread::sleep_for(20ms);
    }
  }

  // Waits until the log has a line containing `needle`.
  std::string wait_log(const fs::path& log, const std::string& needle, std::chrono::seconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto text = read_file(log);
      if (text.find(needle) != std::string::npos || std::chrono::steady_clock::now() > deadline) return text;
      std::this_thread::sleep_for(20ms);
    }
  }

  v1::ExecSyncResponse exec(const std::string& id, std::vector<std::string> cmd, grpc::Status* st,
                            int timeout = 0) {
    v1::ExecSyncRequest req;
    req.set_container_id(id);
    for (auto& a : cmd) req.add_cmd(a);
    req.set_timeout(timeout);
    v1::ExecSyncResponse resp;
    *st = client.runtime_call(&S::ExecSync, req, &resp);
    return resp;
  }

  void remove_pod(const std::string& id) {
    auto st = stop_pod(id);
    INFO(st.error_message());
    CHECK(st.ok());
    v1::RemovePodSandboxRequest req;
    req.set_pod_sandbox_id(id);
    v1::RemovePodSandboxResponse resp;
    st = client.runtime_call(&S::RemovePodSandbox, req, &resp);
    INFO(st.error_message());
    CHECK(st.ok());
  }

  grpc::Status stop_pod(const std::string& id) {
    v1::StopPodSandboxRequest req;
    req.set_pod_sandbox_id(id);
    v1::StopPodSandboxResponse resp;
    return client.runtime_call(&S::StopPodSandbox, req, &resp);
  }

  v1::PodSandboxStatus pod_status(const std::string& id) {
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(id);
    v1::PodSandboxStatusResponse resp;
    auto st = client.runtime_call(&S::PodSandboxStatus, req, &resp);
    INFO(st.error_message());
    REQUIRE(st.ok());
    return resp.status();
  }

  std::size_t container_count() {
    v1::ListContainersResponse resp;
    REQUIRE(client.runtime_call(&S::ListContainers, v1::ListContainersRequest{}, &resp).ok());
    return static_cast<std::size_t>(resp.containers_size());
  }

  // The daemon's mounts but its layers' (an EROFS layer is mounted once
  // for the node while its image is there): what pods and containers hold.
  std::vector<std::string> pod_mounts() const {
    auto mounts = mounts_under(daemon.dir().string());
    const std::string layers = (daemon.layers_dir() / "mnt").string() + "/";
    std::erase_if(mounts, [&](const std::string& line) { return line.find(layers) != std::string::npos; });
    return mounts;
  }

  // Nothing of ringcri's is left: no mount (but the layers of images it
  // still holds), no cgroup, no pod or container dir.
  void check_nothing_left() {
    CHECK(pod_mounts() == std::vector<std::string>{});
    CHECK(cgroups_named("ringcri").empty());
    std::error_code ec;
    CHECK((fs::is_empty(daemon.root() / "containers", ec) || !fs::exists(daemon.root() / "containers")));
    CHECK((fs::is_empty(daemon.state() / "pods", ec) || !fs::exists(daemon.state() / "pods")));
  }
};

// The control file `name` of cgroup `cgroup` in the hierarchy that has
// `controller`: /sys/fs/cgroup/<controller>/... on v1, /sys/fs/cgroup/...
// (or .../unified/...) on v2. Empty when no hierarchy has the file.
inline fs::path cgroup_file(const std::string& controller, const std::string& cgroup, const std::string& name) {
  const std::string rel = cgroup.substr(1);
  for (const fs::path& base : {fs::path("/sys/fs/cgroup") / controller, fs::path("/sys/fs/cgroup/cpu,cpuacct"),
                               fs::path("/sys/fs/cgroup/unified"), fs::path("/sys/fs/cgroup")}) {
    std::error_code ec;
    if (fs::exists(base / rel / name, ec)) return base / rel / name;
  }
  return {};
}

inline std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

inline const std::regex cri_log_line(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) (F|P) (.*)$)");

// The contents of the log's lines, "stream tag content" each, checking the format.
inline std::vector<std::string> log_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    INFO(line);
    REQUIRE(std::regex_match(line, m, cri_log_line));
    out.push_back(m[1].str() + " " + m[2].str() + " " + m[3].str());
  }
  return out;
}

inline bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace ringcri::testing
