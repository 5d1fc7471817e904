#include "cri/spec/resources.hpp"

#include <fmt/format.h>

#include <regex>

namespace ringcri::cri::spec {

namespace {

result<void> not_negative(std::int64_t value, const char* field) {
  if (value < 0)
    return fail(error_kind::invalid_argument, fmt::format("resources: {} {} is negative", field, value));
  return {};
}

}  // namespace

result<exec::cgroups::resources> container_resources(const runtime::v1::LinuxContainerResources& r,
                                                     std::int64_t pids_limit) {
  exec::cgroups::resources out;
  if (auto ok = not_negative(r.cpu_shares(), "cpu_shares"); !ok) return tl::unexpected(ok.error());
  if (auto ok = not_negative(r.cpu_period(), "cpu_period"); !ok) return tl::unexpected(ok.error());
  if (auto ok = not_negative(r.memory_limit_in_bytes(), "memory_limit_in_bytes"); !ok)
    return tl::unexpected(ok.error());
  if (r.cpu_quota() < -1)
    return fail(error_kind::invalid_argument,
                fmt::format("resources: cpu_quota {} is neither -1 (unlimited) nor positive", r.cpu_quota()));
  if (r.memory_swap_limit_in_bytes() < -1)
    return fail(error_kind::invalid_argument,
                fmt::format("resources: memory_swap_limit_in_bytes {} is neither -1 (unlimited) nor positive",
                            r.memory_swap_limit_in_bytes()));
  // The kernel's bounds for a CFS period, in µs.
  if (r.cpu_period() != 0 && (r.cpu_period() < 1000 || r.cpu_period() > 1000000))
    return fail(error_kind::invalid_argument,
                fmt::format("resources: cpu_period {} is not from 1000 to 1000000 µs", r.cpu_period()));
  if (r.cpu_quota() > 0 && r.cpu_quota() < 1000)
    return fail(error_kind::invalid_argument,
                fmt::format("resources: cpu_quota {} is below the kernel's 1000 µs", r.cpu_quota()));
  if (r.memory_limit_in_bytes() > 0 && r.memory_swap_limit_in_bytes() > 0 &&
      r.memory_swap_limit_in_bytes() < r.memory_limit_in_bytes())
    return fail(error_kind::invalid_argument,
                fmt::format("resources: memory_swap_limit_in_bytes {} is below memory_limit_in_bytes {} "
                            "(it counts memory and swap together)",
                            r.memory_swap_limit_in_bytes(), r.memory_limit_in_bytes()));

  out.cpu_shares = static_cast<std::uint64_t>(r.cpu_shares());
  out.cpu_quota = r.cpu_quota();
  out.cpu_period = static_cast<std::uint64_t>(r.cpu_period());
  out.cpuset_cpus = r.cpuset_cpus();
  out.cpuset_mems = r.cpuset_mems();
  out.memory_limit = r.memory_limit_in_bytes();
  out.memory_swap_limit = r.memory_swap_limit_in_bytes();
  out.pids_limit = pids_limit;

  static const std::regex page_size("^[0-9]+(KB|MB|GB)$");
  for (const auto& h : r.hugepage_limits()) {
    if (!std::regex_match(h.page_size(), page_size))
      return fail(error_kind::invalid_argument,
                  fmt::format("resources: hugepage size \"{}\" is not like \"2MB\" or \"1GB\"", h.page_size()));
    out.hugepage_limits.push_back({h.page_size(), h.limit()});
  }
  for (const auto& [file, value] : r.unified()) out.unified.emplace(file, value);
  return out;
}

runtime::v1::LinuxContainerResources merge_resources(const runtime::v1::LinuxContainerResources& current,
                                                     const runtime::v1::LinuxContainerResources& update) {
  runtime::v1::LinuxContainerResources out = current;
  if (update.cpu_period() != 0) out.set_cpu_period(update.cpu_period());
  if (update.cpu_quota() != 0) out.set_cpu_quota(update.cpu_quota());
  if (update.cpu_shares() != 0) out.set_cpu_shares(update.cpu_shares());
  if (update.memory_limit_in_bytes() != 0) out.set_memory_limit_in_bytes(update.memory_limit_in_bytes());
  if (update.memory_swap_limit_in_bytes() != 0)
    out.set_memory_swap_limit_in_bytes(update.memory_swap_limit_in_bytes());
  if (update.oom_score_adj() != 0) out.set_oom_score_adj(update.oom_score_adj());
  if (!update.cpuset_cpus().empty()) out.set_cpuset_cpus(update.cpuset_cpus());
  if (!update.cpuset_mems().empty()) out.set_cpuset_mems(update.cpuset_mems());
  if (!update.hugepage_limits().empty()) *out.mutable_hugepage_limits() = update.hugepage_limits();
  for (const auto& [file, value] : update.unified()) (*out.mutable_unified())[file] = value;
  return out;
}

}  // namespace ringcri::cri::spec
