// bench_compare: the CRI workload of suite.hpp on ringcri, on containerd +
// crun and on containerd + runc, one after the other on the same machine,
// against the same loopback registry and the same CNI network; prints one
// table of the three and the ratio of each containerd to ringcri, and
// writes results.json, table.md, pod-start.png and each runtime's log to
// --out (default ./bench-results).
//
//   bench_compare [--pods N] [--density-pods N] [--density-scale N]
//                 [--density-scale-concurrency C] [--out DIR]
//                 [--only ringcri|containerd-crun|containerd-runc|containerd]
//                 [--layer-store auto|erofs|dir]
//
// --layer-store: ringcri's image.layer_store for the run (default: its
// own default, auto); the table names the store the daemon opened.
//
// --density-scale N (default 0, none): after the suite, each runtime also
// starts N pods, C at a time (default 20), on the host network and then on
// the CNI network, each pod checked Running, then removes them; a runtime
// that fails there (out of memory, a timeout) has where it stopped
// recorded, and the bench goes on. --only containerd: both containerds.
//
// For crun, a node with a hybrid cgroup layout whose v2 hierarchy holds a
// controller has it moved to v1 for the containerd + crun run and put back
// after (cgroup_layout_for_crun.hpp). Ctrl-C, SIGTERM or SIGHUP end the run,
// with everything it started stopped and removed (interrupt.hpp).
//
// Any other CRI runtime, already running, with a registry holding the
// fixture images (tests/fixtures/images.sh, IMAGES=busybox,pause,big,bigzstd BIG=1):
//
//   bench_compare --socket PATH --registry HOST:PORT [--name NAME]
//                 [--processes STRING] [--sandbox-image REF] [--no-cni]
//
// where --processes is a string in the command line of each of the
// runtime's processes (its root directory, say), for memory and CPU.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cgroup_layout_for_crun.hpp"
#include "cgroup_tree.hpp"
#include "containerd_process.hpp"
#include "interrupt.hpp"
#include "report.hpp"
#include "support/cri_client.hpp"
#include "support/node_network.hpp"
#include "support/registry_fixture.hpp"
#include "support/ringcri_process.hpp"

using namespace ringcri::testing;
using namespace ringcri::bench;
namespace fs = std::filesystem;

namespace {

struct options {
  int pods = 100, density_pods = 105;
  int density_scale = 0, density_scale_concurrency = 20;
  fs::path out = "bench-results";
  std::string only;
  std::string layer_store;
  // Another runtime, already running:
  std::string socket, registry, name = "runtime", processes, sandbox_image;
  bool cni = true;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--pods")
      o.pods = std::stoi(value());
    else if (a == "--density-pods")
      o.density_pods = std::stoi(value());
    else if (a == "--density-scale")
      o.density_scale = std::stoi(value());
    else if (a == "--density-scale-concurrency")
      o.density_scale_concurrency = std::stoi(value());
    else if (a == "--out")
      o.out = value();
    else if (a == "--only")
      o.only = value();
    else if (a == "--layer-store")
      o.layer_store = value();
    else if (a == "--socket")
      o.socket = value();
    else if (a == "--registry")
      o.registry = value();
    else if (a == "--name")
      o.name = value();
    else if (a == "--processes")
      o.processes = value();
    else if (a == "--sandbox-image")
      o.sandbox_image = value();
    else if (a == "--no-cni")
      o.cni = false;
    else
      throw std::runtime_error("unknown argument " + a +
                               " (see the head of bench/compare/bench_compare.cpp)");
  }
  if (!o.only.empty() && o.only != "ringcri" && o.only != "containerd" &&
      o.only != "containerd-crun" && o.only != "containerd-runc")
    throw std::runtime_error(
        "--only takes ringcri, containerd-crun, containerd-runc or containerd");
  if (o.density_scale < 0 || o.density_scale_concurrency < 1)
    throw std::runtime_error("--density-scale takes N >= 0, --density-scale-concurrency C >= 1");
  return o;
}

// The suite on one runtime; on failure its pods and images are removed
// before the error goes on. `keep_log` then saves the runtime's log with the
// results, whichever way the suite ended.
runtime_run measure(
    const std::string& name, const std::string& version, const fs::path& socket,
    const std::string& processes, const suite_config& config,
    const std::function<void()>& keep_log = [] {}) {
  std::printf("%s: running the suite (%s)\n", name.c_str(), version.c_str());
  std::fflush(stdout);
  cri_client client(socket, std::chrono::minutes(10));
  // A call fails at once when the runtime is gone (killed by an interrupt,
  // or out of memory at scale) instead of waiting out the deadline.
  client.set_fail_fast(true);
  process_meter meter(processes);
  try {
    runtime_run run{name, version, run_suite(client, config, meter)};
    keep_log();
    return run;
  } catch (...) {
    remove_everything(client);
    keep_log();
    throw;
  }
}

// The cgroup `name` of each hierarchy that has none yet; the destructor
// removes the ones made since (empty cgroups under them first). ringcri
// leaves its parent cgroup /ringcri after its pods are gone, and on cgroup
// v2 that one enables the controllers for its children: a hugetlb left
// enabled there would keep crun's cgroup layout from being set up.
class new_cgroups {
 public:
  explicit new_cgroups(const std::string& name) {
    std::error_code ec;
    for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec))
      if (h.is_directory() && !h.is_symlink() && !fs::exists(h.path() / name))
        dirs_.push_back(h.path() / name);
    if (fs::exists("/sys/fs/cgroup/cgroup.controllers") && !fs::exists("/sys/fs/cgroup/" + name))
      dirs_.push_back("/sys/fs/cgroup/" + name);
  }
  ~new_cgroups() {
    for (const auto& dir : dirs_) remove_cgroup_tree(dir);
  }
  new_cgroups(const new_cgroups&) = delete;
  new_cgroups& operator=(const new_cgroups&) = delete;

 private:
  std::vector<fs::path> dirs_;
};

void print_report(const options& o, const std::vector<runtime_run>& runs,
                  const std::vector<std::string>& not_measured = {}) {
  std::printf("\n%s\n", comparison_table(runs).c_str());
  if (auto notes = scale_notes(runs); !notes.empty()) std::printf("%s\n", notes.c_str());
  for (const auto& why : not_measured) std::printf("not measured: %s\n", why.c_str());
  auto machine = machine_description();
  std::printf(
      "machine: %s, %d cores, %s, kernel %s, %s, cgroups %s\n",
      machine["cpu"].get<std::string>().c_str(), machine["cores"].get<int>(),
      machine["memory"].get<std::string>().c_str(), machine["kernel"].get<std::string>().c_str(),
      machine["os"].get<std::string>().c_str(), machine["cgroups"].get<std::string>().c_str());
  for (const auto& run : runs) std::printf("%s: %s\n", run.name.c_str(), run.version.c_str());
  std::printf("%s", write_report(o.out, runs).c_str());
}

}  // namespace

int main(int argc, char** argv) try {
  // First: whatever follows is cleaned up on a signal (interrupt.hpp).
  interrupt_watch watch;
  auto o = parse(argc, argv);
  if (::geteuid() != 0) {
    std::printf("SKIP: running pods needs root\n");
    return 77;
  }
  temp_dir work("ringcri-bench");
  fs::create_directories(o.out);
  fs::create_directories(work.path() / "logs");
  suite_config config;
  config.pods = o.pods;
  config.density_pods = o.density_pods;
  config.scale_pods = o.density_scale;
  config.scale_concurrency = o.density_scale_concurrency;
  config.log_dir = (work.path() / "logs").string();

  if (!o.socket.empty()) {
    if (o.registry.empty()) throw std::runtime_error("--socket needs --registry HOST:PORT");
    config.registry = o.registry;
    config.sandbox_image = o.sandbox_image;
    config.cni = o.cni;
    print_report(o, {measure(o.name, "", o.socket, o.processes, config)});
    return 0;
  }

  if (auto why = registry_fixture::unavailable_reason(); !why.empty()) {
    std::printf("SKIP: %s\n", why.c_str());
    return 77;
  }
  // Both runtimes get the same network: a bridge and subnet of the bench's
  // own, the node's ip_forward and CNI chains given back at the end.
  node_network_snapshot node_before;
  const std::string bridge = "rcbench" + std::to_string(::getpid() % 100000);
  struct bridge_remover {
    std::string name;
    ~bridge_remover() { shell_output("ip link del " + name + " 2>/dev/null"); }
  } remove_bridge_at_exit{bridge};
  config.cni = fs::exists("/usr/lib/cni/bridge");
  if (!config.cni)
    std::printf("no CNI network: /usr/lib/cni/bridge is missing (containernetworking-plugins)\n");
  fs::create_directories(work.path() / "net.d");
  std::ofstream(work.path() / "net.d" / "10-bench.conflist")
      << R"({"cniVersion":"1.0.0","name":"bench","plugins":[
        {"type":"bridge","bridge":")"
      << bridge << R"(","isGateway":true,"ipMasq":false,
         "ipam":{"type":"host-local","dataDir":")"
      << (work.path() / "ipam").string() << R"(",
                 "ranges":[[{"subnet":"10.253.0.0/16"}]]}},
        {"type":"portmap","capabilities":{"portMappings":true}}]})";

  std::printf(
      "starting the registry with the fixture images (the big ones take a while the first time)\n");
  std::fflush(stdout);
  ::setenv("BIG", "1", 1);
  registry_fixture registry("plain", "busybox,pause,big,bigzstd");
  config.registry = registry.host();
  // Generating and pushing the images leaves hundreds of MB to write back:
  // flushed before anything is timed.
  ::sync();

  std::vector<runtime_run> runs;
  std::vector<std::string> not_measured;
  if (o.only.empty() || o.only == "ringcri") {
    throw_if_interrupted();
    {
      std::ofstream toml(work.path() / "ringcri.toml");
      toml << "[cni]\nconf_dir = \""
           << (config.cni ? work.path() / "net.d" : work.path() / "none").string() << "\"\n";
      if (!o.layer_store.empty()) toml << "[image]\nlayer_store = \"" << o.layer_store << "\"\n";
    }
    new_cgroups remove_parent_cgroups("ringcri");  // after the daemon and its pods
    ringcri_process daemon({"--config", (work.path() / "ringcri.toml").string()});
    kill_on_interrupt stop_it(daemon.pid(), "ringcri");
    std::string out = shell_output(ringcri_binary() + " --version");
    runs.push_back(measure("ringcri",
                           "ringcri " + out.substr(0, out.find('\n')) + ", layer store " +
                               daemon.layer_store(),
                           daemon.socket(),
                           daemon.dir().string(), config,
                           [&] { std::ofstream(o.out / "ringcri.log") << daemon.log(); }));
  }
  for (oci_runtime runtime : {oci_runtime::crun, oci_runtime::runc}) {
    const std::string name = std::string("containerd+") + name_of(runtime);
    const std::string file = std::string("containerd-") + name_of(runtime);
    if (!o.only.empty() && o.only != "containerd" && o.only != file) continue;
    throw_if_interrupted();
    if (auto why = containerd_process::unavailable_reason(runtime); !why.empty()) {
      std::printf("%s not measured: %s\n", name.c_str(), why.c_str());
      not_measured.push_back(name + ": " + why);
      continue;
    }
    auto ctd_config = config;
    ctd_config.sandbox_image = registry.host() + "/pause:1";
    // Declared first, put back last: after containerd and its cgroups are gone.
    std::optional<cgroup_layout_for_crun> layout;
    if (runtime == oci_runtime::crun) {
      try {
        layout.emplace();
      } catch (const std::exception& e) {
        // The node as it was; crun cannot run on it.
        std::printf("%s not measured: %s\n", name.c_str(), e.what());
        not_measured.push_back(name + ": " + e.what());
        continue;
      }
    }
    {
      containerd_process containerd(runtime, registry.host(), ctd_config.sandbox_image,
                                    config.cni ? work.path() / "net.d" : fs::path());
      kill_on_interrupt stop_it(containerd.pid(), name);
      runs.push_back(measure(name, containerd_process::versions(runtime), containerd.socket(),
                             containerd.dir().string(), ctd_config, [&] {
                               std::error_code ec;
                               fs::copy_file(containerd.log(), o.out / (file + ".log"),
                                             fs::copy_options::overwrite_existing, ec);
                             }));
    }
    if (layout) layout->restore();
  }
  throw_if_interrupted();
  print_report(o, runs, not_measured);
  return 0;
} catch (const interrupted_error&) {
  std::fprintf(stderr, "bench_compare: interrupted by %s; what the run started is cleaned up\n",
               interrupt_signal_name());
  return 128 + interrupt_signal();
} catch (const std::exception& e) {
  if (interrupted()) {
    std::fprintf(stderr,
                 "bench_compare: interrupted by %s (%s); what the run started is cleaned up\n",
                 interrupt_signal_name(), e.what());
    return 128 + interrupt_signal();
  }
  std::fprintf(stderr, "bench_compare: %s\n", e.what());
  return 1;
}
