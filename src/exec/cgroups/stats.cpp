// hierarchy::stats (see hierarchy.hpp and stats.hpp): cpu, memory and
// pids usage of a cgroup from whichever hierarchy has each controller.

#include "exec/cgroups/stats.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <optional>
#include <string>

#include "exec/cgroups/cgroup_files.hpp"
#include "exec/cgroups/hierarchy.hpp"

namespace ringcri::exec::cgroups {

namespace {

// See read_resources.cpp: v1's "no limit" is just below 2^63.
constexpr std::uint64_t v1_unlimited_from = std::uint64_t{1} << 62;

// The text of `file`; nullopt when it does not exist (a controller not
// enabled for a v2 cgroup, a v1 hierarchy without this cgroup, or a file
// this kernel does not have).
result<std::optional<std::string>> read_optional(const std::string& file) {
  auto text = detail::read_control(file);
  if (text) return std::optional<std::string>(std::move(*text));
  if (text.error().sys_errno() == ENOENT) return std::optional<std::string>();
  return tl::unexpected<error>(text.error());
}

// Reads every file of `files` under `dir`; nullopt when any is missing,
// so a controller counts as read only when all its files were there.
template <size_t N>
result<std::optional<std::array<std::string, N>>> read_all(const std::string& dir,
                                                           const char* const (&files)[N]) {
  std::array<std::string, N> out;
  for (size_t i = 0; i < N; ++i) {
    auto text = read_optional(fmt::format("{}/{}", dir, files[i]));
    if (!text) return tl::unexpected<error>(text.error());
    if (!*text) return std::optional<std::array<std::string, N>>();
    out[i] = std::move(**text);
  }
  return std::optional(std::move(out));
}

std::uint64_t number(std::string_view text) { return detail::parse_number(text).value_or(0); }

// The number in `file`, or the value of `key` in it when `key` is given;
// nullopt when the file or key is not there.
result<std::optional<std::uint64_t>> read_value(const std::string& file, std::string_view key = {}) {
  auto text = read_optional(file);
  if (!text) return tl::unexpected<error>(text.error());
  if (!*text) return std::optional<std::uint64_t>();
  return key.empty() ? detail::parse_number(**text) : detail::keyed_value(**text, key);
}

// The fields of memory.stat, named "total_<key>" in v1 (the cgroup and
// its descendants) and "<key>" in v2 (always hierarchical).
void fill_memory(cgroup_stats& out, std::string_view usage, std::string_view stat,
                 std::string_view limit, bool v2, stats_detail depth) {
  auto key = [&](std::string_view v1_key, std::string_view v2_key) {
    return detail::keyed_value(stat, v2 ? v2_key : v1_key).value_or(0);
  };
  out.memory_usage = number(usage);
  const std::uint64_t inactive_file = key("total_inactive_file", "inactive_file");
  out.memory_working_set = out.memory_usage > inactive_file ? out.memory_usage - inactive_file : 0;
  out.memory_rss = key("total_rss", "anon");
  out.memory_cache = key("total_cache", "file");
  out.memory_mapped_file = key("total_mapped_file", "file_mapped");
  out.page_faults = key("total_pgfault", "pgfault");
  out.major_page_faults = key("total_pgmajfault", "pgmajfault");
  out.own_page_faults = key("pgfault", "pgfault");
  out.own_major_page_faults = key("pgmajfault", "pgmajfault");
  const std::uint64_t l = number(limit);  // v2 "max" is not a number: 0
  out.memory_limit = l >= v1_unlimited_from ? 0 : l;
  // v1 counts swap here only with swap accounting on (total_swap present).
  if (!v2 && depth == stats_detail::full) out.memory_swap = detail::keyed_value(stat, "total_swap");
  out.has_memory = true;
}

// v1 cpuacct.stat: "user <ticks>\nsystem <ticks>" in USER_HZ.
std::optional<cgroup_stats::cpu_split> cpu_split_of_ticks(std::string_view text) {
  auto user = detail::keyed_value(text, "user");
  auto system = detail::keyed_value(text, "system");
  if (!user || !system) return std::nullopt;
  const long hz = ::sysconf(_SC_CLK_TCK);
  const std::uint64_t ns_per_tick = hz > 0 ? 1'000'000'000ULL / static_cast<std::uint64_t>(hz) : 10'000'000ULL;
  return cgroup_stats::cpu_split{*user * ns_per_tick, *system * ns_per_tick};
}

// cpu.stat's throttling keys: v1 throttled_time is in ns, v2's
// throttled_usec in µs. Absent without the cpu controller (v2).
std::optional<cgroup_stats::cpu_throttling> throttling_of(std::string_view text, bool v2) {
  auto periods = detail::keyed_value(text, "nr_periods");
  auto throttled = detail::keyed_value(text, "nr_throttled");
  auto time = detail::keyed_value(text, v2 ? "throttled_usec" : "throttled_time");
  if (!periods || !throttled || !time) return std::nullopt;
  return cgroup_stats::cpu_throttling{*periods, *throttled, v2 ? *time * 1000 : *time};
}

}  // namespace

result<cgroup_stats> hierarchy::stats(std::string_view path, stats_detail depth) const {
  auto context = [&](error e) {
    return tl::unexpected<error>(std::move(e).context(fmt::format("stats of cgroup {}", path)));
  };
  if (auto r = validate_cgroupfs_path(path); !r) return context(r.error());
  if (!exists(path))
    return context(error(error_kind::not_found, fmt::format("{} does not exist", describe(path))));

  cgroup_stats out;
  const bool full = depth == stats_detail::full;

  // cpu time: v1 cpuacct; else v2's cpu.stat, whose usage_usec is there
  // with or without the cpu controller.
  const cgroup_mount* cpu = mount_of("cpuacct");
  if (cpu == nullptr) cpu = unified();
  if (cpu != nullptr) {
    const std::string dir = dir_of(*cpu, path);
    auto text = read_optional(dir + (cpu->unified ? "/cpu.stat" : "/cpuacct.usage"));
    if (!text) return context(text.error());
    if (*text) {
      if (cpu->unified) {
        out.cpu_usage_ns = detail::keyed_value(**text, "usage_usec").value_or(0) * 1000;
        if (full) {
          auto user = detail::keyed_value(**text, "user_usec");
          auto system = detail::keyed_value(**text, "system_usec");
          if (user && system) out.cpu_time = cgroup_stats::cpu_split{*user * 1000, *system * 1000};
          out.throttling = throttling_of(**text, true);
        }
      } else {
        out.cpu_usage_ns = number(**text);
      }
      out.has_cpu = true;
    }
    if (full && !cpu->unified) {
      auto ticks = read_optional(dir + "/cpuacct.stat");
      if (!ticks) return context(ticks.error());
      if (*ticks) out.cpu_time = cpu_split_of_ticks(**ticks);
    }
  }
  // v1 throttling: the cpu hierarchy's cpu.stat (cpu and cpuacct may be
  // mounted apart).
  if (const cgroup_mount* m = full ? mount_of("cpu") : nullptr; m != nullptr && !m->unified) {
    auto text = read_optional(dir_of(*m, path) + "/cpu.stat");
    if (!text) return context(text.error());
    if (*text) out.throttling = throttling_of(**text, false);
  }

  if (const auto* m = mount_of("memory")) {
    const std::string dir = dir_of(*m, path);
    static const char* const v1_files[] = {"memory.usage_in_bytes", "memory.stat",
                                           "memory.limit_in_bytes"};
    static const char* const v2_files[] = {"memory.current", "memory.stat", "memory.max"};
    auto files = read_all(dir, m->unified ? v2_files : v1_files);
    if (!files) return context(files.error());
    if (*files) fill_memory(out, (**files)[0], (**files)[1], (**files)[2], m->unified, depth);
    if (full && out.has_memory) {
      struct optional_file {
        std::optional<std::uint64_t>* field;
        const char* name;
        std::string_view key;  // empty: the file is one number
      };
      const std::array<optional_file, 3> v1_extra = {{{&out.memory_max_usage, "memory.max_usage_in_bytes", {}},
                                                      {&out.memory_failcnt, "memory.failcnt", {}},
                                                      {&out.oom_kills, "memory.oom_control", "oom_kill"}}};
      const std::array<optional_file, 3> v2_extra = {{{&out.memory_swap, "memory.swap.current", {}},
                                                      {&out.memory_max_usage, "memory.peak", {}},
                                                      {&out.oom_kills, "memory.events", "oom_kill"}}};
      for (const auto& f : m->unified ? v2_extra : v1_extra) {
        auto value = read_value(dir + "/" + f.name, f.key);
        if (!value) return context(value.error());
        *f.field = *value;
      }
    }
  }

  if (const auto* m = mount_of("pids")) {
    const std::string dir = dir_of(*m, path);
    auto text = read_optional(dir + "/pids.current");
    if (!text) return context(text.error());
    if (*text) {
      out.pids = number(**text);
      out.has_pids = true;
      if (full) {
        auto max = read_optional(dir + "/pids.max");
        if (!max) return context(max.error());
        if (*max) out.pids_max = detail::trim(**max) == "max" ? 0 : detail::parse_number(**max);
      }
    }
  }
  return out;
}

}  // namespace ringcri::exec::cgroups
