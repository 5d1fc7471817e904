// hierarchy::stats (see hierarchy.hpp and stats.hpp): cpu, memory and
// pids usage of a cgroup from whichever hierarchy has each controller.

#include "exec/cgroups/stats.hpp"

#include <fmt/format.h>

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
// enabled for a v2 cgroup, or a v1 hierarchy without this cgroup).
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

// The fields of memory.stat, named "total_<key>" in v1 (the cgroup and
// its descendants) and "<key>" in v2 (always hierarchical).
void fill_memory(cgroup_stats& out, std::string_view usage, std::string_view stat,
                 std::string_view limit, bool v2) {
  auto key = [&](std::string_view v1_key, std::string_view v2_key) {
    return detail::keyed_value(stat, v2 ? v2_key : v1_key).value_or(0);
  };
  out.memory_usage = number(usage);
  const std::uint64_t inactive_file = key("total_inactive_file", "inactive_file");
  out.memory_working_set = out.memory_usage > inactive_file ? out.memory_usage - inactive_file : 0;
  out.memory_rss = key("total_rss", "anon");
  out.page_faults = key("total_pgfault", "pgfault");
  out.major_page_faults = key("total_pgmajfault", "pgmajfault");
  const std::uint64_t l = number(limit);  // v2 "max" is not a number: 0
  out.memory_limit = l >= v1_unlimited_from ? 0 : l;
  out.has_memory = true;
}

}  // namespace

result<cgroup_stats> hierarchy::stats(std::string_view path) const {
  auto context = [&](error e) {
    return tl::unexpected<error>(std::move(e).context(fmt::format("stats of cgroup {}", path)));
  };
  if (auto r = validate_cgroupfs_path(path); !r) return context(r.error());
  if (!exists(path))
    return context(error(error_kind::not_found, fmt::format("{} does not exist", describe(path))));

  cgroup_stats out;

  // cpu time: v1 cpuacct; else v2's cpu.stat, whose usage_usec is there
  // with or without the cpu controller.
  const cgroup_mount* cpu = mount_of("cpuacct");
  if (cpu == nullptr) cpu = unified();
  if (cpu != nullptr) {
    const std::string dir = dir_of(*cpu, path);
    auto text = read_optional(dir + (cpu->unified ? "/cpu.stat" : "/cpuacct.usage"));
    if (!text) return context(text.error());
    if (*text) {
      out.cpu_usage_ns = cpu->unified ? detail::keyed_value(**text, "usage_usec").value_or(0) * 1000
                                      : number(**text);
      out.has_cpu = true;
    }
  }

  if (const auto* m = mount_of("memory")) {
    const std::string dir = dir_of(*m, path);
    static const char* const v1_files[] = {"memory.usage_in_bytes", "memory.stat",
                                           "memory.limit_in_bytes"};
    static const char* const v2_files[] = {"memory.current", "memory.stat", "memory.max"};
    auto files = read_all(dir, m->unified ? v2_files : v1_files);
    if (!files) return context(files.error());
    if (*files) fill_memory(out, (**files)[0], (**files)[1], (**files)[2], m->unified);
  }

  if (const auto* m = mount_of("pids")) {
    auto text = read_optional(dir_of(*m, path) + "/pids.current");
    if (!text) return context(text.error());
    if (*text) out.pids = number(**text);
  }
  return out;
}

}  // namespace ringcri::exec::cgroups
