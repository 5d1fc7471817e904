// bench_pod_start: the step from CRI request to running process. Starts a
// loopback registry with the fixture busybox image and a ringcri (or uses
// --socket PATH and --image REF to measure another runtime), then runs N
// pods one after another: RunPodSandbox (host network) + CreateContainer
// (busybox sleep) + StartContainer, timing each step and the whole, then
// stops and removes each pod. In between it times ExecSync `true`, and
// Exec `echo x` through the streaming server (SPDY, as crictl and kubectl
// exec): request to first output byte, and to the exit status. Prints
// p50/p99 per step and the RSS of the daemon and its keeper with every pod
// running.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "support/cri_client.hpp"
#include "support/registry_fixture.hpp"
#include "support/ringcri_process.hpp"
#include "support/stream_client.hpp"

using namespace ringcri::testing;
namespace v1 = runtime::v1;
using S = v1::RuntimeService::Stub;
using namespace ringcri::bench;

namespace {

// VmRSS in KiB of `pid`, 0 if gone.
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// The keeper's pid: the process whose cmdline is "<bin> keeper --state <state>".
pid_t keeper_pid(const std::filesystem::path& state) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), {});
    if (cmdline.find(std::string("keeper") + '\0') != std::string::npos &&
        cmdline.find(state.string()) != std::string::npos)
      return std::stoi(name);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  std::string socket, image;
  int pods = 100;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--socket") && i + 1 < argc) socket = argv[++i];
    else if (!std::strcmp(argv[i], "--image") && i + 1 < argc) image = argv[++i];
    else if (!std::strcmp(argv[i], "--pods") && i + 1 < argc) pods = std::stoi(argv[++i]);
  }
  if (::geteuid() != 0) {
    std::printf("SKIP: running pods needs root\n");
    return 77;
  }
  std::optional<registry_fixture> registry;
  if (image.empty()) {
    if (auto why = registry_fixture::unavailable_reason(); !why.empty()) {
      std::printf("SKIP: %s\n", why.c_str());
      return 77;
    }
    registry.emplace("plain", "busybox");
    image = registry->host() + "/busybox:1";
  }
  std::optional<ringcri_process> daemon;
  if (socket.empty()) {
    daemon.emplace();
    socket = daemon->socket().string();
  }
  cri_client client(socket);
  {
    v1::PullImageRequest req;
    req.mutable_image()->set_image(image);
    v1::PullImageResponse resp;
    check(client.image_call(&v1::ImageService::Stub::PullImage, req, &resp), "PullImage");
  }
  temp_dir logs("ringcri-bench-logs");

  std::vector<double> run_ms, create_ms, start_ms, total_ms;
  std::vector<std::string> pod_ids, container_ids;
  for (int i = 0; i < pods; ++i) {
    v1::PodSandboxConfig pod;
    pod.mutable_metadata()->set_name("bench-" + std::to_string(i));
    pod.mutable_metadata()->set_namespace_("bench");
    pod.mutable_metadata()->set_uid("bench-uid-" + std::to_string(i));
    pod.set_log_directory(logs.path().string());
    // As the kubelet sends it for a hostNetwork pod: host network, a pid
    // namespace per container.
    pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
    pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);

    auto t0 = clock_type::now();
    v1::RunPodSandboxRequest run;
    *run.mutable_config() = pod;
    v1::RunPodSandboxResponse ran;
    check(client.runtime_call(&S::RunPodSandbox, run, &ran), "RunPodSandbox");
    run_ms.push_back(ms_since(t0));

    auto t1 = clock_type::now();
    v1::CreateContainerRequest create;
    create.set_pod_sandbox_id(ran.pod_sandbox_id());
    *create.mutable_sandbox_config() = pod;
    auto* c = create.mutable_config();
    c->mutable_metadata()->set_name("sleep");
    c->mutable_image()->set_image(image);
    c->add_command("sleep");
    c->add_command("3600");
    c->set_log_path("bench-" + std::to_string(i) + ".log");
    c->mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
    c->mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
    v1::CreateContainerResponse created;
    check(client.runtime_call(&S::CreateContainer, create, &created), "CreateContainer");
    create_ms.push_back(ms_since(t1));

    auto t2 = clock_type::now();
    v1::StartContainerRequest start;
    start.set_container_id(created.container_id());
    v1::StartContainerResponse started;
    check(client.runtime_call(&S::StartContainer, start, &started), "StartContainer");
    start_ms.push_back(ms_since(t2));
    total_ms.push_back(ms_since(t0));
    pod_ids.push_back(ran.pod_sandbox_id());
    container_ids.push_back(created.container_id());
  }

  // ExecSync `true` in a running container, as an exec probe does.
  std::vector<double> exec_ms;
  for (int i = 0; i < 100; ++i) {
    v1::ExecSyncRequest exec;
    exec.set_container_id(container_ids[static_cast<std::size_t>(i) % container_ids.size()]);
    exec.add_cmd("true");
    exec.set_timeout(10);
    v1::ExecSyncResponse done;
    auto t = clock_type::now();
    check(client.runtime_call(&S::ExecSync, exec, &done), "ExecSync");
    exec_ms.push_back(ms_since(t));
  }

  // Exec through the streaming server, as `crictl exec` and `kubectl exec`
  // do it: the Exec RPC, the SPDY upgrade and streams, until the first byte
  // of output, and until the exit status.
  std::vector<double> stream_first_ms, stream_done_ms;
  for (int i = 0; i < 100; ++i) {
    auto t = clock_type::now();
    v1::ExecRequest exec;
    exec.set_container_id(container_ids[static_cast<std::size_t>(i) % container_ids.size()]);
    exec.add_cmd("echo");
    exec.add_cmd("x");
    exec.set_stdout(true);
    exec.set_stderr(true);
    v1::ExecResponse url;
    check(client.runtime_call(&S::Exec, exec, &url), "Exec");
    spdy_client c(url.url(), {"v4.channel.k8s.io"});
    if (!c.connected()) throw std::runtime_error("streaming upgrade refused");
    auto error = c.open_stream({{"streamtype", "error"}});
    auto out = c.open_stream({{"streamtype", "stdout"}});
    c.open_stream({{"streamtype", "stderr"}});
    if (!c.wait([&] { return !c.data[out].empty(); })) throw std::runtime_error("no exec output");
    stream_first_ms.push_back(ms_since(t));
    if (!c.wait([&] { return c.finished.count(error) > 0; })) throw std::runtime_error("no exec status");
    stream_done_ms.push_back(ms_since(t));
  }

  long daemon_rss = 0, keeper_rss = 0;
  if (daemon) {
    daemon_rss = rss_kib(daemon->pid());
    keeper_rss = rss_kib(keeper_pid(daemon->state()));
  }

  auto t3 = clock_type::now();
  for (const auto& id : pod_ids) {
    stop_and_remove_pod(client, id);
  }
  double teardown_ms = ms_since(t3) / pods;

  std::printf("pod start, %d pods one after another, host network, busybox sleep (ms)\n", pods);
  std::printf("  %-18s %8s %8s\n", "step", "p50", "p99");
  auto row = [](const char* name, const std::vector<double>& v) {
    std::printf("  %-18s %8.3f %8.3f\n", name, percentile(v, 0.50), percentile(v, 0.99));
  };
  row("RunPodSandbox", run_ms);
  row("CreateContainer", create_ms);
  row("StartContainer", start_ms);
  row("end to end", total_ms);
  row("ExecSync true", exec_ms);
  row("Exec: 1st byte", stream_first_ms);
  row("Exec: status", stream_done_ms);
  std::printf("  stop+remove per pod: %.3f ms\n", teardown_ms);
  if (daemon)
    std::printf("  RSS with %d pods running: daemon %.1f MiB, keeper %.1f MiB\n", pods, daemon_rss / 1024.0,
                keeper_rss / 1024.0);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_pod_start: %s\n", e.what());
  return 1;
}
