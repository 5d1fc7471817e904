// bench_pod_network: what pod networking costs RunPodSandbox and
// StopPodSandbox. One daemon, one run, four kinds of pod one after
// another, N each: host network; an own network namespace with no CNI
// network (loopback only); the bridge network through the real CNI
// plugins (bridge + host-local + portmap from /usr/lib/cni, a bridge and
// subnet of the bench's own, IP reservations in a temp dir); and the same
// with a host port on 127.0.0.1. The difference between the second and
// third is what CNI ADD and DEL cost; the fourth adds portmap's iptables
// work. Prints p50/p99 of RunPodSandbox and of Stop+RemovePodSandbox.
// `--native off` runs every plugin as a program (cni.native), for the
// difference the in-process path makes; `--ip-masq` turns on the bridge's
// masquerade (off by default, as the bench has always run).

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "support/cri_client.hpp"
#include "support/node_network.hpp"
#include "support/registry_fixture.hpp"
#include "support/ringcri_process.hpp"

using namespace ringcri::testing;
namespace v1 = runtime::v1;
namespace fs = std::filesystem;
using S = v1::RuntimeService::Stub;
using namespace ringcri::bench;

namespace {

struct timings {
  std::vector<double> run_ms, teardown_ms;
};

// N pods of one kind: each run, then all stopped and removed.
timings run_pods(cri_client& client, const fs::path& logs, const std::string& kind, bool host_network, int pods,
                 bool host_port = false) {
  timings t;
  std::vector<std::string> ids;
  for (int i = 0; i < pods; ++i) {
    v1::RunPodSandboxRequest run;
    auto* pod = run.mutable_config();
    pod->mutable_metadata()->set_name(kind + "-" + std::to_string(i));
    pod->mutable_metadata()->set_namespace_("bench");
    pod->mutable_metadata()->set_uid(kind + "-uid-" + std::to_string(i));
    pod->set_hostname(kind + "-" + std::to_string(i));
    pod->set_log_directory(logs.string());
    auto* ns = pod->mutable_linux()->mutable_security_context()->mutable_namespace_options();
    ns->set_network(host_network ? v1::NODE : v1::POD);
    ns->set_pid(v1::CONTAINER);
    if (host_port) {
      auto* port = pod->add_port_mappings();
      port->set_container_port(80);
      port->set_host_port(31000 + i);
      port->set_host_ip("127.0.0.1");
    }
    v1::RunPodSandboxResponse ran;
    auto t0 = clock_type::now();
    check(client.runtime_call(&S::RunPodSandbox, run, &ran), "RunPodSandbox");
    t.run_ms.push_back(ms_since(t0));
    ids.push_back(ran.pod_sandbox_id());
  }
  for (const auto& id : ids) {
    auto t0 = clock_type::now();
    stop_and_remove_pod(client, id);
    t.teardown_ms.push_back(ms_since(t0));
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) try {
  int pods = 100;
  std::string native = "auto";  // cni.native: "off" runs every plugin, for comparison
  bool ip_masq = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--ip-masq") ip_masq = true;
    else if (i + 1 >= argc) break;
    else if (std::string(argv[i]) == "--pods") pods = std::stoi(argv[++i]);
    else if (std::string(argv[i]) == "--native") native = argv[++i];
  }
  if (::geteuid() != 0) {
    std::printf("SKIP: pods need root\n");
    return 77;
  }
  if (!fs::exists("/usr/lib/cni/bridge")) {
    std::printf("SKIP: /usr/lib/cni/bridge is missing (containernetworking-plugins)\n");
    return 77;
  }
  // ip_forward, which the bridge turns on, CNI's iptables chains and the
  // daemon's nftables table, given back.
  node_network_snapshot node_before;
  temp_dir dir("ringcri-bench-net");
  const std::string bridge = "rcrib" + std::to_string(::getpid() % 10000);
  fs::create_directories(dir.path() / "net.d");
  fs::create_directories(dir.path() / "none.d");
  std::ofstream(dir.path() / "net.d" / "10-bench.conflist")
      << R"({"cniVersion":"1.0.0","name":"bench","plugins":[
        {"type":"bridge","bridge":")" << bridge << R"(","isGateway":true,"ipMasq":)" << (ip_masq ? "true" : "false") << R"(,
         "ipam":{"type":"host-local","dataDir":")" << (dir.path() / "ipam").string() << R"(",
                 "ranges":[[{"subnet":"10.253.0.0/16"}]]}},
        {"type":"portmap","capabilities":{"portMappings":true}}]})";
  auto write_config = [&](const char* conf_dir) {
    std::ofstream(dir.path() / "ringcri.toml", std::ios::trunc)
        << "[cni]\nconf_dir = \"" << (dir.path() / conf_dir).string() << "\"\nnative = \"" << native
        << "\"\n";
  };

  write_config("none.d");
  ringcri_process daemon({"--config", (dir.path() / "ringcri.toml").string()});
  cri_client client(daemon.socket().string());
  // Warm up (page cache of the plugins, the keeper started).
  write_config("net.d");
  daemon.restart();
  client.reconnect();
  (void)run_pods(client, dir.path(), "warm", false, 5);
  auto cni = run_pods(client, dir.path(), "cni", false, pods);
  auto cni_port = run_pods(client, dir.path(), "cni-port", false, pods, true);
  write_config("none.d");
  daemon.restart();
  client.reconnect();
  auto host = run_pods(client, dir.path(), "host", true, pods);
  auto loopback = run_pods(client, dir.path(), "loopback", false, pods);
  shell_output("ip link del " + bridge + " 2>/dev/null");

  std::printf("pod network, %d pods of each kind one after another, cni.native %s, ipMasq %s (ms)\n",
              pods, native.c_str(), ip_masq ? "on" : "off");
  std::printf("  %-36s %8s %8s\n", "step", "p50", "p99");
  auto row = [](const std::string& name, const std::vector<double>& v) {
    std::printf("  %-36s %8.3f %8.3f\n", name.c_str(), percentile(v, 0.50), percentile(v, 0.99));
  };
  row("RunPodSandbox, host network", host.run_ms);
  row("RunPodSandbox, own netns, loopback", loopback.run_ms);
  row("RunPodSandbox, CNI bridge+portmap", cni.run_ms);
  row("RunPodSandbox, CNI, one host port", cni_port.run_ms);
  row("Stop+Remove, host network", host.teardown_ms);
  row("Stop+Remove, own netns, loopback", loopback.teardown_ms);
  row("Stop+Remove, CNI bridge+portmap", cni.teardown_ms);
  row("Stop+Remove, CNI, one host port", cni_port.teardown_ms);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_pod_network: %s\n", e.what());
  return 1;
}
