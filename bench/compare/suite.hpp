#pragma once
// The CRI workload `make bench` runs on each runtime, through nothing but
// the runtime's CRI socket: cold pulls, pods started one after another
// (host network and CNI network), ExecSync, and a density run (105 pods,
// 10 at a time) with the runtime's memory and CPU read from /proc.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process_meter.hpp"
#include "support/cri_client.hpp"

namespace ringcri::bench {

struct suite_config {
  std::string registry;       // host:port of the loopback registry with the fixture images
  std::string sandbox_image;  // pre-pulled before pods start (empty: the runtime keeps none)
  std::string log_dir;        // the pods' log directory
  bool cni = true;            // the runtime has the bench's CNI network
  int pods = 100;             // pods one after another, per network
  int density_pods = 105;
  int density_concurrency = 10;
  int pull_runs = 3;
};

// Latencies of one step, in ms, in the order they were taken.
using samples = std::vector<double>;

struct suite_results {
  suite_config workload;                 // what was run
  std::map<std::string, double> pull_s;  // image -> median cold pull
  // "host/RunPodSandbox", "cni/end to end", "ExecSync true", ...
  std::map<std::string, samples> steps;
  double density_wall_s = 0;
  process_usage density_peak;     // the runtime's processes at the highest RSS seen while starting
  process_usage density_running;  // with every density pod running
  double density_cpu_s = 0;       // CPU of the runtime's processes while the pods started
  double density_teardown_s = 0;
  nlohmann::json to_json() const;
};

// Pulls, pods, execs and density, in that order; ends with no pod,
// container or image left (or throws saying what is left).
suite_results run_suite(testing::cri_client& client, const suite_config& config,
                        process_meter& meter);

// After a failure: stops and removes every pod and removes every image the
// runtime lists, ignoring errors.
void remove_everything(testing::cri_client& client);

}  // namespace ringcri::bench
