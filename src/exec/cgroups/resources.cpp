// hierarchy::apply (see hierarchy.hpp and resources.hpp): checks every
// field, finds the hierarchy of each controller, and hands the fields to
// the v1 or v2 writer; also the writers that are the same in both.

#include "exec/cgroups/resources.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "exec/cgroups/cgroup_files.hpp"
#include "exec/cgroups/hierarchy.hpp"
#include "exec/cgroups/resource_writers.hpp"

namespace ringcri::exec::cgroups {

namespace {

constexpr std::uint64_t min_shares = 2;
constexpr std::uint64_t max_shares = 262144;
constexpr std::uint64_t max_weight = 10000;

// "2MB", "64KB", "1GB": digits and a unit, the names the kernel gives
// its hugetlb files.
bool valid_page_size(std::string_view size) {
  if (size.size() < 3) return false;
  std::string_view unit = size.substr(size.size() - 2);
  if (unit != "KB" && unit != "MB" && unit != "GB") return false;
  std::string_view digits = size.substr(0, size.size() - 2);
  return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool valid_unified_name(std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos ||
      name.find("..") != std::string_view::npos || name == ".")
    return false;
  return std::none_of(name.begin(), name.end(),
                      [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

result<void> check_values(const resources& r) {
  auto below_unlimited = [](std::string_view what, std::int64_t value) -> result<void> {
    if (value >= -1) return {};
    return fail(error_kind::invalid_argument,
                fmt::format("{} {} is negative (only -1, unlimited, is allowed)", what, value));
  };
  if (auto c = below_unlimited("cpu quota", r.cpu_quota); !c) return c;
  if (auto c = below_unlimited("memory limit", r.memory_limit); !c) return c;
  if (auto c = below_unlimited("memory+swap limit", r.memory_swap_limit); !c) return c;
  if (auto c = below_unlimited("pids limit", r.pids_limit); !c) return c;
  if (r.memory_swap_limit > 0 && r.memory_limit > 0 && r.memory_swap_limit < r.memory_limit)
    return fail(error_kind::invalid_argument,
                fmt::format("memory+swap limit {} is below the memory limit {}",
                            r.memory_swap_limit, r.memory_limit));
  for (const auto& h : r.hugepage_limits)
    if (!valid_page_size(h.page_size))
      return fail(
          error_kind::invalid_argument,
          fmt::format("hugepage size \"{}\" is not a size like \"2MB\" or \"1GB\"", h.page_size));
  for (const auto& [name, value] : r.unified)
    if (!valid_unified_name(name))
      return fail(error_kind::invalid_argument,
                  fmt::format("unified cgroup file name \"{}\" is not a file name", name));
  return {};
}

// The hierarchy of `controller` for a set field, or INVALID_ARGUMENT
// "<what> needs the <controller> controller, which is not mounted".
result<const cgroup_mount*> mount_for(const hierarchy& h, bool set, std::string_view controller,
                                      std::string_view what) {
  if (!set) return nullptr;
  if (const auto* m = h.mount_of(controller)) return m;
  return fail(error_kind::invalid_argument,
              fmt::format("{} the {} controller, which is not mounted", what, controller));
}

}  // namespace

std::uint64_t cpu_weight_of_shares(std::uint64_t shares) {
  shares = std::clamp(shares, min_shares, max_shares);
  return 1 + ((shares - min_shares) * (max_weight - 1)) / (max_shares - min_shares);
}

std::uint64_t cpu_shares_of_weight(std::uint64_t weight) {
  weight = std::clamp<std::uint64_t>(weight, 1, max_weight);
  // The ceiling of the inverse: the smallest shares whose weight is `weight`.
  const std::uint64_t span = max_shares - min_shares;
  return min_shares + ((weight - 1) * span + (max_weight - 1) - 1) / (max_weight - 1);
}

namespace detail {

result<void> write_pids(const std::string& dir, const resources& wanted) {
  if (wanted.pids_limit == 0) return {};
  return write_control(dir + "/pids.max", wanted.pids_limit < 0
                                              ? std::string("max")
                                              : std::to_string(wanted.pids_limit));
}

result<void> write_hugetlb(const std::string& dir, bool v2, const resources& wanted) {
  for (const auto& h : wanted.hugepage_limits) {
    const std::string file =
        fmt::format("{}/hugetlb.{}.{}", dir, h.page_size, v2 ? "max" : "limit_in_bytes");
    auto r = write_control(file, std::to_string(h.limit));
    if (!r && r.error().sys_errno() == ENOENT && exists(dir))
      return fail(error_kind::invalid_argument,
                  fmt::format("hugepage size \"{}\" is not one this kernel has (no {})",
                              h.page_size, file));
    if (!r) return r;
  }
  return {};
}

}  // namespace detail

result<void> hierarchy::apply(std::string_view path, const resources& wanted) const {
  auto context = [&](error e) {
    return tl::unexpected<error>(
        std::move(e).context(fmt::format("set resources of cgroup {}", path)));
  };
  if (auto r = validate_cgroupfs_path(path); !r) return context(r.error());
  if (auto r = check_values(wanted); !r) return context(r.error());

  // Every controller is found before anything is written.
  const bool cpu_set = wanted.cpu_shares != 0 || wanted.cpu_quota != 0 || wanted.cpu_period != 0;
  const bool cpuset_set = !wanted.cpuset_cpus.empty() || !wanted.cpuset_mems.empty();
  const bool memory_set = wanted.memory_limit != 0 || wanted.memory_swap_limit != 0;
  auto cpu = mount_for(*this, cpu_set, "cpu",
                       wanted.cpu_shares != 0  ? "cpu shares need"
                       : wanted.cpu_quota != 0 ? "a cpu quota needs"
                                               : "a cpu period needs");
  if (!cpu) return context(cpu.error());
  auto cpuset = mount_for(*this, cpuset_set, "cpuset",
                          !wanted.cpuset_cpus.empty() ? "cpuset cpus need" : "cpuset mems need");
  if (!cpuset) return context(cpuset.error());
  auto memory =
      mount_for(*this, memory_set, "memory",
                wanted.memory_limit != 0 ? "memory limit needs" : "memory+swap limit needs");
  if (!memory) return context(memory.error());
  auto pids = mount_for(*this, wanted.pids_limit != 0, "pids", "pids limit needs");
  if (!pids) return context(pids.error());
  auto hugetlb =
      mount_for(*this, !wanted.hugepage_limits.empty(), "hugetlb", "hugepage limits need");
  if (!hugetlb) return context(hugetlb.error());
  if (!wanted.unified.empty() && unified() == nullptr)
    return context(error(error_kind::invalid_argument,
                         "unified (cgroup v2) files need a cgroup v2 hierarchy, which is not "
                         "mounted"));

  // runc's order: cpuset first (the processes it moves then run where
  // asked), then memory, cpu, pids, hugetlb, and the raw files last so
  // they have the final word.
  auto dir = [&](const cgroup_mount* m) { return dir_of(*m, path); };
  if (*cpuset) {
    auto r = (*cpuset)->unified ? detail::v2_write_cpuset(dir(*cpuset), wanted)
                                : detail::v1_write_cpuset(*this, **cpuset, path, wanted);
    if (!r) return context(r.error());
  }
  if (*memory) {
    auto r = (*memory)->unified ? detail::v2_write_memory(dir(*memory), wanted)
                                : detail::v1_write_memory(dir(*memory), wanted);
    if (!r) return context(r.error());
  }
  if (*cpu) {
    auto r = (*cpu)->unified ? detail::v2_write_cpu(dir(*cpu), wanted)
                             : detail::v1_write_cpu(dir(*cpu), wanted);
    if (!r) return context(r.error());
  }
  if (*pids)
    if (auto r = detail::write_pids(dir(*pids), wanted); !r) return context(r.error());
  if (*hugetlb)
    if (auto r = detail::write_hugetlb(dir(*hugetlb), (*hugetlb)->unified, wanted); !r)
      return context(r.error());
  if (!wanted.unified.empty())
    if (auto r = detail::v2_write_unified(dir(unified()), wanted); !r) return context(r.error());
  return {};
}

}  // namespace ringcri::exec::cgroups
