#pragma once
// What `make bench` shows of the runs: one table of every figure for each
// runtime and the ratio of each to the first, the same as JSON with the raw
// latencies and the machine, and a chart of the pod-start latency
// distributions (gnuplot).

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "suite.hpp"

namespace ringcri::bench {

struct runtime_run {
  std::string name;     // "ringcri", "containerd+crun", "containerd+runc"
  std::string version;  // as the runtime reports it
  suite_results results;
};

// The machine the figures are from: CPU, cores, memory, kernel, cgroups.
nlohmann::json machine_description();

// The table: a row per figure, a column per runtime, then a column per
// runtime but the first with the ratio of its figure to the first's (every
// figure is lower-is-better; counts and growth factors get no ratio).
std::string comparison_table(const std::vector<runtime_run>& runs);

// A line per density run at scale that did not complete: where it stopped
// and why ("" when all did, or none ran).
std::string scale_notes(const std::vector<runtime_run>& runs);

// Writes <dir>/results.json, <dir>/table.md (with the scale notes) and,
// when gnuplot is installed, <dir>/pod-start.png (the end-to-end pod start
// latencies of each runtime, host network and CNI side by side). Returns what it wrote, a path a line.
std::string write_report(const std::filesystem::path& dir, const std::vector<runtime_run>& runs);

}  // namespace ringcri::bench
