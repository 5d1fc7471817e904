#pragma once
// The CRI workload `make bench` runs on each runtime, through nothing but
// the runtime's CRI socket: cold pulls, pods started one after another
// (host network and CNI network), ExecSync, and a density run (105 pods,
// 10 at a time) with the runtime's memory and CPU read from /proc; then,
// when asked, the density run at scale (N pods, C at a time, on each
// network), whose failure is recorded, not thrown.

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
  int scale_pods = 0;  // the density run at scale: pods per network (0: none)
  int scale_concurrency = 20;
};

// Latencies of one step, in ms, in the order they were taken.
using samples = std::vector<double>;

// One density run at scale, on one network. A run that fails stops there:
// where it got to and why are kept, its pods removed.
struct scale_result {
  bool ran = false;          // false: not run (an earlier failure left the runtime unable to)
  bool all_running = false;  // every pod was started and listed Running
  bool completed = false;    // and all were stopped and removed
  int pods_started = 0;      // StartContainer returned
  int pods_ready = -1;       // ListPodSandbox READY at the end (or at the failure; -1: no answer)
  int containers_running = -1;  // ListContainers RUNNING, likewise
  std::string stage;            // where it failed: "start", "check", "teardown"
  std::string error;            // why ("" when completed)
  double elapsed_s = 0;         // from the first start to the failure (or to all running)
  double wall_s = 0;            // every pod started (all_running)
  double cpu_s = 0;             // the runtime's CPU while they started
  process_usage peak, running;
  double teardown_s = 0;  // stop and remove them all (completed)
  nlohmann::json to_json() const;
};

struct suite_results {
  suite_config workload;                 // what was run
  // image -> its pull into a store without it: the first (the runtime's
  // disk never held it) and the median of the repeats (removed in between,
  // so the runtime deletes and writes the same files again).
  std::map<std::string, double> pull_first_s, pull_repeat_s;
  // "host/RunPodSandbox", "cni/end to end", "ExecSync true", ...
  std::map<std::string, samples> steps;
  double density_wall_s = 0;
  process_usage density_peak;     // the runtime's processes at the highest RSS seen while starting
  process_usage density_running;  // with every density pod running
  double density_cpu_s = 0;       // CPU of the runtime's processes while the pods started
  double density_teardown_s = 0;
  std::map<std::string, scale_result> scale;  // "host", "cni": with scale_pods > 0
  std::string scale_cleanup_error;            // the end-of-suite clean-up after a failed scale run
  nlohmann::json to_json() const;
};

// Pulls, pods, execs, density and the scale runs, in that order; ends
// with no pod, container or image left (or throws saying what is left;
// after a failed scale run, records it instead).
suite_results run_suite(testing::cri_client& client, const suite_config& config,
                        process_meter& meter);

// After a failure: stops and removes every pod and removes every image the
// runtime lists, ignoring errors.
void remove_everything(testing::cri_client& client);

}  // namespace ringcri::bench
