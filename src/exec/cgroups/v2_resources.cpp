// cgroup v2 limit writers (see resource_writers.hpp): the CRI's v1-style
// values converted as runc's libcontainer/cgroups/fs2 does (shares to
// cpu.weight, quota and period to cpu.max, memory+swap to swap alone),
// and the raw `unified` files.

#include <fmt/format.h>

#include <string>

#include "exec/cgroups/cgroup_files.hpp"
#include "exec/cgroups/resource_writers.hpp"

namespace ringcri::exec::cgroups::detail {

namespace {

constexpr std::uint64_t default_cpu_period = 100000;  // µs, the kernel's default

std::string limit_or_max(std::int64_t value) {
  return value < 0 ? std::string("max") : std::to_string(value);
}

}  // namespace

result<void> v2_write_cpu(const std::string& dir, const resources& wanted) {
  if (wanted.cpu_shares != 0)
    if (auto r = write_control(dir + "/cpu.weight",
                               std::to_string(cpu_weight_of_shares(wanted.cpu_shares)));
        !r)
      return r;
  if (wanted.cpu_quota == 0 && wanted.cpu_period == 0) return {};

  // cpu.max holds both; the half not asked for keeps its current value
  // (a fresh cgroup's is "max 100000").
  std::string quota = "max";
  std::uint64_t period = default_cpu_period;
  const std::string file = dir + "/cpu.max";
  if (auto current = read_control(file); current) {
    auto parts = words(*current);
    if (!parts.empty()) quota = parts[0];
    if (parts.size() > 1)
      if (auto p = parse_number(parts[1]); p && *p != 0) period = *p;
  }
  if (wanted.cpu_quota != 0) quota = limit_or_max(wanted.cpu_quota);
  if (wanted.cpu_period != 0) period = wanted.cpu_period;
  return write_control(file, fmt::format("{} {}", quota, period));
}

result<void> v2_write_memory(const std::string& dir, const resources& wanted) {
  const std::int64_t memory = wanted.memory_limit;
  const std::int64_t memsw = wanted.memory_swap_limit;

  // memory.swap.max is swap alone: memory+swap minus memory. Unlimited
  // memory with nothing said of swap is unlimited swap too (runc).
  std::string swap;
  if (memsw == -1 || (memory == -1 && memsw == 0)) {
    swap = "max";
  } else if (memsw > 0) {
    if (memory <= 0)
      return fail(error_kind::invalid_argument,
                  fmt::format("a memory+swap limit ({}) needs a memory limit on cgroup v2, "
                              "where memory.swap.max holds swap alone",
                              memsw));
    swap = std::to_string(memsw - memory);
  }
  if (!swap.empty()) {
    auto r = write_control(dir + "/memory.swap.max", swap);
    // No memory.swap.max: the kernel has no swap accounting. Asking for
    // no swap or unlimited swap is then already true.
    const bool moot =
        (swap == "max" || swap == "0") && !r && r.error().sys_errno() == ENOENT && exists(dir);
    if (!r && !moot) return r;
  }
  if (memory != 0)
    if (auto r = write_control(dir + "/memory.max", limit_or_max(memory)); !r) return r;
  return {};
}

result<void> v2_write_cpuset(const std::string& dir, const resources& wanted) {
  if (!wanted.cpuset_cpus.empty())
    if (auto r = write_control(dir + "/cpuset.cpus", wanted.cpuset_cpus); !r) return r;
  if (!wanted.cpuset_mems.empty())
    if (auto r = write_control(dir + "/cpuset.mems", wanted.cpuset_mems); !r) return r;
  return {};
}

result<void> v2_write_unified(const std::string& dir, const resources& wanted) {
  for (const auto& [name, value] : wanted.unified) {
    const std::string file = fmt::format("{}/{}", dir, name);
    auto r = write_control(file, value);
    if (!r && r.error().sys_errno() == ENOENT && exists(dir))
      return fail(error_kind::invalid_argument,
                  fmt::format("unified file \"{}\" does not exist in {} (is its controller "
                              "enabled there?)",
                              name, dir));
    if (!r) return r;
  }
  return {};
}

}  // namespace ringcri::exec::cgroups::detail
