// hierarchy::read_resources (see hierarchy.hpp): the limits a cgroup has
// now, read from the same files apply writes, "no limit" as 0.

#include <dirent.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>

#include "exec/cgroups/cgroup_files.hpp"
#include "exec/cgroups/hierarchy.hpp"

namespace ringcri::exec::cgroups {

namespace {

// v1 reports no memory limit as the largest page-aligned counter value
// (9223372036854771712 with 4 KiB pages; other page sizes give other
// numbers just as close to 2^63).
constexpr std::uint64_t v1_unlimited_from = std::uint64_t{1} << 62;

// The text of `file`, or "" when it does not exist (a controller not
// enabled for a v2 cgroup, a v1 cpuset cgroup never made).
result<std::string> read_if_there(const std::string& file) {
  auto text = detail::read_control(file);
  if (!text && text.error().sys_errno() == ENOENT) return std::string();
  return text;
}

// A number file; "max", "-1", v1's unlimited and a missing file are 0.
result<std::uint64_t> read_limit(const std::string& file) {
  auto text = read_if_there(file);
  if (!text) return tl::unexpected<error>(text.error());
  auto n = detail::parse_number(*text);
  if (!n || *n >= v1_unlimited_from) return 0;
  return *n;
}

struct dir_closer {
  void operator()(DIR* d) const { ::closedir(d); }
};

// Every hugetlb.<size>.<suffix> file in `dir` with a limit below unlimited.
result<std::vector<hugepage_limit>> read_hugetlb(const std::string& dir, std::string_view suffix) {
  std::vector<hugepage_limit> out;
  std::unique_ptr<DIR, dir_closer> d(::opendir(dir.c_str()));
  if (!d) {
    if (errno == ENOENT) return out;
    return fail_errno(errno, fmt::format("list cgroup {}", dir));
  }
  std::vector<std::string> sizes;
  while (struct dirent* e = ::readdir(d.get())) {
    std::string_view name = e->d_name;
    if (!name.starts_with("hugetlb.") || !name.ends_with(suffix)) continue;
    name.remove_prefix(8);
    name.remove_suffix(suffix.size());
    if (name.find('.') != std::string_view::npos) continue;  // hugetlb.2MB.rsvd.max
    sizes.emplace_back(name);
  }
  std::sort(sizes.begin(), sizes.end());
  for (const auto& size : sizes) {
    const std::string file = fmt::format("{}/hugetlb.{}{}", dir, size, suffix);
    auto text = read_if_there(file);
    if (!text) return tl::unexpected<error>(text.error());
    auto n = detail::parse_number(*text);
    if (n && *n < v1_unlimited_from) out.push_back({size, *n});
  }
  return out;
}

std::int64_t signed_limit(std::uint64_t n) { return static_cast<std::int64_t>(n); }

result<void> read_v1_cpu(const std::string& dir, resources& out) {
  auto shares = read_limit(dir + "/cpu.shares");
  if (!shares) return tl::unexpected<error>(shares.error());
  auto quota = read_if_there(dir + "/cpu.cfs_quota_us");  // "-1": none
  if (!quota) return tl::unexpected<error>(quota.error());
  auto period = read_limit(dir + "/cpu.cfs_period_us");
  if (!period) return tl::unexpected<error>(period.error());
  out.cpu_shares = *shares;
  out.cpu_quota = signed_limit(detail::parse_number(*quota).value_or(0));
  out.cpu_period = *period;
  return {};
}

result<void> read_v2_cpu(const std::string& dir, resources& out) {
  auto weight = read_limit(dir + "/cpu.weight");
  if (!weight) return tl::unexpected<error>(weight.error());
  auto max = read_if_there(dir + "/cpu.max");  // "max 100000"
  if (!max) return tl::unexpected<error>(max.error());
  if (*weight != 0) out.cpu_shares = cpu_shares_of_weight(*weight);
  auto parts = detail::words(*max);
  if (!parts.empty()) out.cpu_quota = signed_limit(detail::parse_number(parts[0]).value_or(0));
  if (parts.size() > 1) out.cpu_period = detail::parse_number(parts[1]).value_or(0);
  return {};
}

}  // namespace

result<resources> hierarchy::read_resources(std::string_view path) const {
  auto context = [&](error e) {
    return tl::unexpected<error>(
        std::move(e).context(fmt::format("read resources of cgroup {}", path)));
  };
  if (auto r = validate_cgroupfs_path(path); !r) return context(r.error());
  if (!exists(path))
    return context(error(error_kind::not_found, fmt::format("{} does not exist", describe(path))));

  resources out;
  if (const auto* m = mount_of("cpu"))
    if (auto r =
            m->unified ? read_v2_cpu(dir_of(*m, path), out) : read_v1_cpu(dir_of(*m, path), out);
        !r)
      return context(r.error());

  if (const auto* m = mount_of("cpuset")) {
    const std::string dir = dir_of(*m, path);
    auto cpus = read_if_there(dir + "/cpuset.cpus");
    auto mems = read_if_there(dir + "/cpuset.mems");
    if (!cpus) return context(cpus.error());
    if (!mems) return context(mems.error());
    out.cpuset_cpus = std::string(detail::trim(*cpus));
    out.cpuset_mems = std::string(detail::trim(*mems));
  }

  if (const auto* m = mount_of("memory")) {
    const std::string dir = dir_of(*m, path);
    if (!m->unified) {
      auto memory = read_limit(dir + "/memory.limit_in_bytes");
      auto memsw = read_limit(dir + "/memory.memsw.limit_in_bytes");
      if (!memory) return context(memory.error());
      if (!memsw) return context(memsw.error());
      out.memory_limit = signed_limit(*memory);
      out.memory_swap_limit = signed_limit(*memsw);
    } else {
      auto memory = read_limit(dir + "/memory.max");
      auto swap = read_if_there(dir + "/memory.swap.max");
      if (!memory) return context(memory.error());
      if (!swap) return context(swap.error());
      out.memory_limit = signed_limit(*memory);
      // Back to memory+swap, which needs a memory limit to add to.
      if (auto s = detail::parse_number(*swap); s && *memory != 0)
        out.memory_swap_limit = signed_limit(*memory + *s);
    }
  }

  if (const auto* m = mount_of("pids")) {
    auto pids = read_limit(dir_of(*m, path) + "/pids.max");
    if (!pids) return context(pids.error());
    out.pids_limit = signed_limit(*pids);
  }

  if (const auto* m = mount_of("hugetlb")) {
    auto limits = read_hugetlb(dir_of(*m, path), m->unified ? ".max" : ".limit_in_bytes");
    if (!limits) return context(limits.error());
    out.hugepage_limits = std::move(*limits);
  }
  return out;
}

}  // namespace ringcri::exec::cgroups
