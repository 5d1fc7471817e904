#include "cri/metrics/scrape.hpp"

#include <fstream>
#include <map>
#include <optional>

#include "cri/keeper_link.hpp"
#include "metrics/daemon_metrics.hpp"
#include "metrics/process_reading.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;
using metrics::family;
using metrics::metric_type;

namespace {

family gauge(std::string name, std::string help, std::string unit = {}) {
  return family{std::move(name), std::move(help), std::move(unit), metric_type::gauge, {}};
}

void add(family& f, double value, metrics::label_set labels = {}) {
  f.series.push_back(metrics::series{std::move(labels), value, std::nullopt});
}

// "CONTAINER_RUNNING" -> "running", "SANDBOX_NOTREADY" -> "notready".
std::string state_label(const std::string& enum_name) {
  auto under = enum_name.find('_');
  std::string s = under == std::string::npos ? enum_name : enum_name.substr(under + 1);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The process readings under `prefix`: "process_" for this process, as
// Prometheus' client libraries name them, "ringcri_keeper_" for the keeper.
void add_process(std::vector<family>& out, const std::string& prefix, const std::string& whose,
                 const metrics::process_reading& p) {
  auto f = gauge(prefix + "resident_memory_bytes", "Resident memory of " + whose + ".", "bytes");
  add(f, static_cast<double>(p.resident_bytes));
  out.push_back(std::move(f));
  f = gauge(prefix + "virtual_memory_bytes", "Virtual memory of " + whose + ".", "bytes");
  add(f, static_cast<double>(p.virtual_bytes));
  out.push_back(std::move(f));
  f = gauge(prefix + "open_fds", "File descriptors " + whose + " holds open.");
  add(f, static_cast<double>(p.open_fds));
  out.push_back(std::move(f));
  f = gauge(prefix + "max_fds", "Most file descriptors " + whose + " may open.");
  add(f, static_cast<double>(p.max_fds));
  out.push_back(std::move(f));
  family cpu{prefix + "cpu_seconds", "CPU time " + whose + " used, user and system.", "seconds",
             metric_type::counter, {}};
  add(cpu, p.cpu_seconds);
  out.push_back(std::move(cpu));
  f = gauge(prefix + "start_time_seconds", "When " + whose + " started, seconds since the epoch.", "seconds");
  add(f, p.start_time_seconds);
  out.push_back(std::move(f));
}

pid_t keeper_pid(const config::config& cfg) {
  std::ifstream in(cfg.state_dir / "keeper.lock");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return -1;
  return static_cast<pid_t>(pid);
}

}  // namespace

reactor::task<std::string> scrape(context& ctx, metrics::text_format format) {
  std::vector<family> out = metrics::default_registry().collect();

  // Pods and containers by state, every state listed (a zero is a reading).
  std::map<std::string, double> pods, containers;
  for (auto s : {v1::SANDBOX_READY, v1::SANDBOX_NOTREADY}) pods[state_label(v1::PodSandboxState_Name(s))] = 0;
  for (auto s : {v1::CONTAINER_CREATED, v1::CONTAINER_RUNNING, v1::CONTAINER_EXITED, v1::CONTAINER_UNKNOWN})
    containers[state_label(v1::ContainerState_Name(s))] = 0;
  for (const auto& p : ctx.state.list_pods(nullptr)) ++pods[state_label(v1::PodSandboxState_Name(p.state()))];
  for (const auto& c : ctx.state.list_containers(nullptr))
    ++containers[state_label(v1::ContainerState_Name(c.state()))];
  auto f = gauge("ringcri_pods", "Pod sandboxes, by state.");
  for (const auto& [state, n] : pods) add(f, n, {{"state", state}});
  out.push_back(std::move(f));
  f = gauge("ringcri_containers", "Containers, by state.");
  for (const auto& [state, n] : containers) add(f, n, {{"state", state}});
  out.push_back(std::move(f));
  f = gauge("ringcri_images", "Images on the node.");
  add(f, static_cast<double>(ctx.images.size()));
  out.push_back(std::move(f));

  // Reads of files (the layer store's, /proc): off the reactor.
  struct file_reading {
    std::optional<std::size_t> layers;
    image::layer_usage usage;
    std::optional<metrics::process_reading> keeper, daemon;
  };
  auto files = co_await reactor::run_blocking([&ctx] {
    file_reading r;
    auto listed = ctx.layers.list();
    auto usage = ctx.layers.usage();
    if (listed && usage) {
      r.layers = listed->size();
      r.usage = *usage;
    }
    if (pid_t pid = keeper_pid(ctx.cfg); pid > 0) r.keeper = metrics::read_process(pid);
    r.daemon = metrics::read_process(::getpid());
    return r;
  });
  if (files.layers) {
    f = gauge("ringcri_layers", "Image layers in the layer store.");
    add(f, static_cast<double>(*files.layers));
    out.push_back(std::move(f));
    f = gauge("ringcri_layer_store_bytes", "Disk space the layer store's layers take.", "bytes");
    add(f, static_cast<double>(files.usage.bytes));
    out.push_back(std::move(f));
  }

  // The keeper: reachable, what it holds, and its process.
  result<std::vector<exec::keeper::held>> held = fail(error_kind::unavailable, "no keeper link");
  if (ctx.keeper != nullptr) held = co_await ctx.keeper->list();
  f = gauge("ringcri_keeper_up", "1 when the keeper answered this scrape.");
  add(f, held ? 1 : 0);
  out.push_back(std::move(f));
  if (held) {
    std::size_t running = 0;
    for (const auto& h : *held)
      if (h.pidfd) ++running;
    f = gauge("ringcri_keeper_held_processes", "Container processes the keeper holds, by whether they run.");
    add(f, static_cast<double>(running), {{"state", "running"}});
    add(f, static_cast<double>(held->size() - running), {{"state", "exited"}});
    out.push_back(std::move(f));
  }
  if (files.keeper) add_process(out, "ringcri_keeper_", "the keeper", *files.keeper);
  if (files.daemon) add_process(out, "process_", "the daemon", *files.daemon);

  co_return metrics::render(out, format);
}

}  // namespace ringcri::cri
