// cgroup v1 limit writers (see resource_writers.hpp): cpu shares and CFS
// quota, cpuset, memory and memory+swap, in the orders the kernel accepts,
// as runc's libcontainer/cgroups/fs does.

#include <fmt/format.h>

#include <string>

#include "exec/cgroups/cgroup_files.hpp"
#include "exec/cgroups/resource_writers.hpp"

namespace ringcri::exec::cgroups::detail {

namespace {

bool is_einval(const result<void>& r) { return !r && r.error().sys_errno() == EINVAL; }

}  // namespace

result<void> v1_write_cpu(const std::string& dir, const resources& wanted) {
  if (wanted.cpu_shares != 0)
    if (auto r = write_control(dir + "/cpu.shares", std::to_string(wanted.cpu_shares)); !r)
      return r;

  // A new period is refused (EINVAL) when old quota / new period would
  // exceed what the parent allows; with a new quota coming, write the
  // period again after it.
  const std::string period_file = dir + "/cpu.cfs_period_us";
  const std::string period = std::to_string(wanted.cpu_period);
  bool period_pending = false;
  if (wanted.cpu_period != 0) {
    auto r = write_control(period_file, period);
    if (!r) {
      if (!is_einval(r) || wanted.cpu_quota == 0) return r;
      period_pending = true;
    }
  }
  if (wanted.cpu_quota != 0) {
    if (auto r = write_control(dir + "/cpu.cfs_quota_us", std::to_string(wanted.cpu_quota)); !r)
      return r;
    if (period_pending)
      if (auto r = write_control(period_file, period); !r) return r;
  }
  return {};
}

result<void> v1_write_memory(const std::string& dir, const resources& wanted) {
  const std::string memory_file = dir + "/memory.limit_in_bytes";
  const std::string memsw_file = dir + "/memory.memsw.limit_in_bytes";
  const std::int64_t memory = wanted.memory_limit;
  std::int64_t memsw = wanted.memory_swap_limit;
  // memsw exists only with swap accounting on (swapaccount=1).
  const bool has_memsw = exists(memsw_file);
  if (!has_memsw) memsw = 0;
  // As runc: unlimited memory with nothing said of swap lifts the
  // memory+swap cap too, or it would still hold the old limit.
  if (memory == -1 && memsw == 0 && has_memsw) memsw = -1;

  if (memory == 0 && memsw == 0) return {};
  if (memory == 0) return write_control(memsw_file, std::to_string(memsw));
  if (memsw == 0) {
    auto r = write_control(memory_file, std::to_string(memory));
    // A memory limit above the memsw limit set before is EINVAL: say so.
    if (is_einval(r) && has_memsw) {
      auto text = read_control(memsw_file);
      auto current = text ? parse_number(*text) : std::nullopt;
      if (current && memory > 0 && *current < static_cast<std::uint64_t>(memory))
        return tl::unexpected<error>(
            error(r.error().kind(),
                  fmt::format("{} (the memory+swap limit is {}: set it with the memory limit)",
                              r.error().message(), *current),
                  EINVAL));
    }
    return r;
  }

  // The kernel keeps memsw >= memory at every step: raising, memsw goes
  // first; lowering, memory goes first. Which one is decided from the
  // current memory limit as runc does, and on EINVAL the other order is
  // tried (the current memsw limit may be the one in the way).
  auto write_both = [&](bool memsw_first) -> result<void> {
    const std::string& first = memsw_first ? memsw_file : memory_file;
    const std::string& second = memsw_first ? memory_file : memsw_file;
    const std::int64_t first_value = memsw_first ? memsw : memory;
    const std::int64_t second_value = memsw_first ? memory : memsw;
    if (auto r = write_control(first, std::to_string(first_value)); !r) return r;
    return write_control(second, std::to_string(second_value));
  };
  bool memsw_first = memsw == -1;
  if (!memsw_first) {
    auto text = read_control(memory_file);
    if (!text) return tl::unexpected<error>(text.error());
    auto current = parse_number(*text);
    memsw_first = current && *current < static_cast<std::uint64_t>(memsw);
  }
  auto r = write_both(memsw_first);
  if (is_einval(r))
    if (auto again = write_both(!memsw_first); again) return again;
  return r;
}

result<void> v1_write_cpuset(const hierarchy& h, const cgroup_mount& mount, std::string_view path,
                             const resources& wanted) {
  const std::string dir = hierarchy::dir_of(mount, path);
  if (!exists(dir)) {
    // Made only for a cgroup that create made elsewhere.
    if (!h.exists(path))
      return fail(error_kind::not_found, fmt::format("{} does not exist", h.describe(path)));
    if (auto r = make_v1_cpuset_cgroup(hierarchy::dir_of(mount, "/"), path); !r) return r;
  }
  if (!wanted.cpuset_cpus.empty())
    if (auto r = write_control(dir + "/cpuset.cpus", wanted.cpuset_cpus); !r) return r;
  if (!wanted.cpuset_mems.empty())
    if (auto r = write_control(dir + "/cpuset.mems", wanted.cpuset_mems); !r) return r;

  // The processes already in `path` elsewhere join it here; writing one
  // already in it changes nothing. One that exited meanwhile is skipped.
  auto pids = h.pids(path);
  if (!pids) return tl::unexpected<error>(pids.error());
  const std::string procs = dir + "/cgroup.procs";
  for (pid_t pid : *pids) {
    auto r = write_control(procs, std::to_string(pid));
    if (!r && r.error().sys_errno() != ESRCH)
      return tl::unexpected<error>(
          std::move(r.error()).context(fmt::format("move process {} into its cpuset", pid)));
  }
  return {};
}

}  // namespace ringcri::exec::cgroups::detail
