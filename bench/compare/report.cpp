#include "report.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include "bench_support.hpp"
#include "support/node_network.hpp"

namespace ringcri::bench {

namespace fs = std::filesystem;

namespace {

struct figure {
  std::string label;
  std::function<std::optional<double>(const suite_results&)> value;
  bool ratio = true;   // false: no ratio of runtimes (a count, a growth factor)
  bool count = false;  // a whole number
};

std::optional<double> step_percentile(const suite_results& r, const std::string& step, double p) {
  auto it = r.steps.find(step);
  if (it == r.steps.end() || it->second.empty()) return std::nullopt;
  return percentile(it->second, p);
}

// The density runs at scale: per network, what the density run shows,
// where a failed one stopped, and, on the density run's network, how the
// per-pod figures grow from its pods to the scale's.
void scale_figures(const suite_config& workload, std::vector<figure>& out) {
  const int n = workload.scale_pods, d = workload.density_pods;
  const std::string ns = std::to_string(n), ds = std::to_string(d);
  const std::string pods =
      ns + " pods, " + std::to_string(workload.scale_concurrency) + " at a time";
  using value = std::optional<double>;
  std::vector<std::pair<std::string, std::string>> networks{{"host", "host network"}};
  if (workload.cni) networks.push_back({"cni", "CNI network"});
  for (const auto& [net, net_label] : networks) {
    auto run = [net = net](const suite_results& r) -> const scale_result* {
      auto it = r.scale.find(net);
      return it == r.scale.end() ? nullptr : &it->second;
    };
    auto add = [&, run](std::string label, std::function<value(const scale_result&)> f,
                        bool count = false) {
      out.push_back({"scale, " + net_label + ": " + label,
                     [run, f](const suite_results& r) -> value {
                       auto s = run(r);
                       return s ? f(*s) : std::nullopt;
                     },
                     !count, count});
    };
    auto if_running = [](double (*f)(const scale_result&)) {
      return [f](const scale_result& s) -> value {
        return s.all_running ? value(f(s)) : std::nullopt;
      };
    };
    add("start " + pods + " (s)", if_running([](const scale_result& s) { return s.wall_s; }));
    add("runtime CPU while starting them (s)",
        if_running([](const scale_result& s) { return s.cpu_s; }));
    add("runtime RSS, peak while starting (MiB)",
        if_running([](const scale_result& s) { return s.peak.rss_kib / 1024.0; }));
    add("runtime RSS with " + ns + " pods running (MiB)",
        if_running([](const scale_result& s) { return s.running.rss_kib / 1024.0; }));
    add("runtime RSS per running pod (MiB)", [n](const scale_result& s) -> value {
      return s.all_running ? value(s.running.rss_kib / 1024.0 / n) : std::nullopt;
    });
    add("stop and remove " + pods + " (s)", [](const scale_result& s) -> value {
      return s.completed ? value(s.teardown_s) : std::nullopt;
    });
    add(
        "pods running (all " + ns + ", or where a failed run stopped)",
        [](const scale_result& s) -> value {
          if (!s.ran) return std::nullopt;
          return s.containers_running >= 0 ? s.containers_running : s.pods_started;
        },
        true);
    if (net != (workload.cni ? "cni" : "host")) continue;
    // Against the density run, which ran on this network.
    out.push_back(
        {"scale, " + net_label + ": start wall per pod, " + ds + " → " + ns + " pods (× growth)",
         [run, n, d](const suite_results& r) -> value {
           auto s = run(r);
           if (!s || !s->all_running || r.density_wall_s <= 0) return std::nullopt;
           return (s->wall_s / n) / (r.density_wall_s / d);
         },
         false});
    out.push_back(
        {"scale, " + net_label + ": runtime RSS per pod, " + ds + " → " + ns + " pods (× growth)",
         [run, n, d](const suite_results& r) -> value {
           auto s = run(r);
           if (!s || !s->all_running || r.density_running.rss_kib <= 0) return std::nullopt;
           return (static_cast<double>(s->running.rss_kib) / n) /
                  (static_cast<double>(r.density_running.rss_kib) / d);
         },
         false});
  }
}

std::vector<figure> figures(const suite_config& workload) {
  std::vector<figure> out;
  const std::string pods = std::to_string(workload.density_pods) + " pods, " +
                           std::to_string(workload.density_concurrency) + " at a time";
  const std::pair<const char*, const char*> networks[] = {{"host", "host network"},
                                                          {"cni", "CNI network"}};
  for (const auto& [net, net_label] : networks)
    for (const char* step :
         {"end to end", "RunPodSandbox", "CreateContainer", "StartContainer", "Stop+Remove"})
      for (auto [p, p_label] : {std::pair{0.5, "p50"}, {0.9, "p90"}, {0.99, "p99"}})
        out.push_back(
            {std::string("pod start, ") + net_label + ": " + step + " " + p_label + " (ms)",
             [key = std::string(net) + "/" + step, p = p](const suite_results& r) {
               return step_percentile(r, key, p);
             }});
  for (const char* step : {"ExecSync true", "Exec echo (SPDY)"})
    for (auto [p, p_label] : {std::pair{0.5, "p50"}, {0.99, "p99"}})
      out.push_back({std::string(step) + " " + p_label + " (ms)",
                     [key = std::string(step), p = p](const suite_results& r) {
                       return step_percentile(r, key, p);
                     }});
  auto density = [&](std::string label, std::function<double(const suite_results&)> f) {
    out.push_back(
        {"density: " + label, [f](const suite_results& r) { return std::optional(f(r)); }});
  };
  density("start " + pods + " (s)", [](const suite_results& r) { return r.density_wall_s; });
  density("runtime CPU while starting them (s)",
          [](const suite_results& r) { return r.density_cpu_s; });
  density("runtime RSS with " + std::to_string(workload.density_pods) + " pods running (MiB)",
          [](const suite_results& r) { return r.density_running.rss_kib / 1024.0; });
  density("runtime RSS, peak while starting (MiB)",
          [](const suite_results& r) { return r.density_peak.rss_kib / 1024.0; });
  density("runtime processes with " + std::to_string(workload.density_pods) + " pods running",
          [](const suite_results& r) { return static_cast<double>(r.density_running.processes); });
  density("stop and remove " + pods + " (s)",
          [](const suite_results& r) { return r.density_teardown_s; });
  if (workload.scale_pods > 0) scale_figures(workload, out);
  for (auto [image, label] : {std::pair{"busybox", "busybox, 1 layer, 1 MB"},
                              {"big", "8 layers, 18,000 files, 144 MB, gzip"},
                              {"bigzstd", "8 layers, 18,000 files, 144 MB, zstd"}}) {
    auto pick = [key = std::string(image)](const std::map<std::string, double>& m) {
      auto it = m.find(key);
      return it == m.end() ? std::nullopt : std::optional<double>(it->second);
    };
    out.push_back({std::string("cold pull, ") + label + ", first (s)",
                   [pick](const suite_results& r) { return pick(r.pull_first_s); }});
    if (workload.pull_runs > 1)
      out.push_back({std::string("cold pull, ") + label + ", repeated: median of " +
                         std::to_string(workload.pull_runs - 1) + " (s)",
                     [pick](const suite_results& r) { return pick(r.pull_repeat_s); }});
  }
  return out;
}

std::string format(std::optional<double> v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, *v >= 100 ? "%.0f" : *v >= 10 ? "%.1f" : "%.2f", *v);
  return buf;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// ECDF of `v` as "value fraction" lines, for gnuplot.
void write_cdf(const fs::path& path, samples v) {
  std::sort(v.begin(), v.end());
  std::ofstream out(path);
  for (std::size_t i = 0; i < v.size(); ++i)
    out << v[i] << ' ' << static_cast<double>(i + 1) / static_cast<double>(v.size()) << '\n';
}

}  // namespace

nlohmann::json machine_description() {
  utsname u{};
  ::uname(&u);
  std::string cpu = first_line(
      testing::shell_output("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'"));
  std::string mem = first_line(
      testing::shell_output("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo"));
  std::string cgroups = fs::exists("/sys/fs/cgroup/cgroup.controllers") ? "v2"
                        : fs::exists("/sys/fs/cgroup/unified")          ? "hybrid (v1 + v2)"
                                                                        : "v1";
  std::string os = first_line(testing::shell_output(". /etc/os-release && echo \"$PRETTY_NAME\""));
  char date[32];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return {{"cpu", cpu},
          {"cores", ::sysconf(_SC_NPROCESSORS_ONLN)},
          {"memory", mem},
          {"kernel", std::string(u.release)},
          {"os", os},
          {"cgroups", cgroups},
          {"date", std::string(date)}};
}

std::string comparison_table(const std::vector<runtime_run>& runs) {
  std::ostringstream out;
  out << "| figure |";
  for (const auto& run : runs) out << ' ' << run.name << " |";
  for (std::size_t i = 1; i < runs.size(); ++i)
    out << ' ' << runs[i].name << " ÷ " << runs[0].name << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < 2 * runs.size() - (runs.empty() ? 0 : 1); ++i) out << "---:|";
  out << '\n';
  for (const auto& f : figures(runs.empty() ? suite_config{} : runs[0].results.workload)) {
    out << "| " << f.label << " |";
    std::vector<std::optional<double>> values;
    for (const auto& run : runs) {
      values.push_back(f.value(run.results));
      out << ' '
          << (f.count && values.back() ? std::to_string(std::lround(*values.back()))
                                       : format(values.back()))
          << " |";
    }
    for (std::size_t i = 1; i < runs.size(); ++i) {
      if (f.ratio && values[0] && values[i] && *values[0] > 0)
        out << ' ' << format(*values[i] / *values[0]) << "× |";
      else
        out << " - |";
    }
    out << '\n';
  }
  return out.str();
}

std::string scale_notes(const std::vector<runtime_run>& runs) {
  std::ostringstream out;
  for (const auto& run : runs) {
    const int n = run.results.workload.scale_pods;
    for (const auto& [net, s] : run.results.scale) {
      if (s.completed) continue;
      out << "- " << run.name << ", density at scale on the " << (net == "cni" ? "CNI" : "host")
          << " network: ";
      if (!s.ran) {
        out << s.error << '\n';
        continue;
      }
      out << "failed at " << s.stage;
      if (s.stage == "start") {
        out << " after " << format(s.elapsed_s) << " s, " << s.pods_started << " of " << n
            << " pods started, ";
        if (s.containers_running >= 0)
          out << s.containers_running << " running";
        else
          out << "the runtime no longer answering";
      }
      out << ": " << first_line(s.error) << '\n';
    }
    if (!run.results.scale_cleanup_error.empty())
      out << "- " << run.name
          << ", clean-up after the scale runs: " << first_line(run.results.scale_cleanup_error)
          << '\n';
  }
  return out.str();
}

std::string write_report(const fs::path& dir, const std::vector<runtime_run>& runs) {
  fs::create_directories(dir);
  std::ostringstream wrote;
  nlohmann::json json{{"machine", machine_description()}, {"runtimes", nlohmann::json::object()}};
  for (const auto& run : runs)
    json["runtimes"][run.name] = {{"version", run.version}, {"results", run.results.to_json()}};
  std::ofstream(dir / "results.json") << json.dump(2) << '\n';
  wrote << (dir / "results.json").string() << '\n';
  {
    std::ofstream table(dir / "table.md");
    table << comparison_table(runs);
    if (auto notes = scale_notes(runs); !notes.empty()) table << '\n' << notes;
  }
  wrote << (dir / "table.md").string() << '\n';

  if (testing::shell_output("command -v gnuplot").empty()) {
    wrote << "no chart: gnuplot is missing (scripts/install-deps.sh --bench installs it)\n";
    return wrote.str();
  }
  std::ostringstream plot;
  plot << "set terminal pngcairo size 1200,480 font ',10'\n"
       << "set output '" << (dir / "pod-start.png").string() << "'\n"
       << "set multiplot layout 1,2 title 'Pod start, RunPodSandbox + CreateContainer + "
          "StartContainer, "
       << "one pod after another (" << json["machine"]["cores"] << " cores, "
       << json["machine"]["memory"].get<std::string>() << ")'\n"
       << "set logscale x\nset grid\nset yrange [0:1]\nset key bottom right\n"
       << "set xlabel 'ms (log scale)'\nset ylabel 'fraction of pods started within'\n";
  for (auto [net, title] : {std::pair{"host", "host network"}, {"cni", "CNI bridge network"}}) {
    plot << "set title '" << title << "'\nplot ";
    bool first = true;
    for (const auto& run : runs) {
      auto it = run.results.steps.find(std::string(net) + "/end to end");
      if (it == run.results.steps.end()) continue;
      std::string file = run.name;
      std::replace(file.begin(), file.end(), '+', '-');
      auto data = dir / (file + "-" + net + ".dat");
      write_cdf(data, it->second);
      plot << (first ? "" : ", ") << "'" << data.string() << "' using 1:2 with steps lw 2 title '"
           << run.name << " p50 " << format(percentile(it->second, 0.5)) << " ms'";
      first = false;
    }
    plot << (first ? "NaN notitle" : "") << '\n';
  }
  plot << "unset multiplot\n";
  std::ofstream(dir / "pod-start.gp") << plot.str();
  int status = 0;
  auto err =
      testing::shell_output("gnuplot '" + (dir / "pod-start.gp").string() + "' 2>&1", &status);
  if (status != 0)
    wrote << "no chart: gnuplot failed: " << err << '\n';
  else
    wrote << (dir / "pod-start.png").string() << '\n';
  return wrote.str();
}

}  // namespace ringcri::bench
