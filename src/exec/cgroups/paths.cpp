// Cgroup path checks and joins (see paths.hpp).

#include "exec/cgroups/paths.hpp"

#include <fmt/format.h>

namespace ringcri::exec::cgroups {

namespace {

// Why `component` cannot be a cgroup directory name, or "" if it can.
std::string_view component_problem(std::string_view component) {
  if (component.empty()) return "an empty component";
  if (component == "." || component == "..") return "a \".\" or \"..\" component";
  for (unsigned char c : component)
    if (c < 0x20 || c == 0x7f) return "a control character";
  return "";
}

}  // namespace

result<void> validate_cgroupfs_path(std::string_view path) {
  if (path.empty() || path.front() != '/')
    return fail(error_kind::invalid_argument,
                fmt::format("cgroup path \"{}\" is not absolute", path));
  if (path == "/") return {};
  std::string_view rest = path.substr(1);
  while (true) {
    size_t slash = rest.find('/');
    auto problem = component_problem(rest.substr(0, slash));
    if (!problem.empty())
      return fail(error_kind::invalid_argument,
                  fmt::format("cgroup path \"{}\" has {}", path, problem));
    if (slash == std::string_view::npos) return {};
    rest.remove_prefix(slash + 1);
  }
}

result<std::string> cgroupfs_path(std::string_view cgroup_parent, std::string_view leaf) {
  if (auto r = validate_cgroupfs_path(cgroup_parent); !r)
    return tl::unexpected<error>(std::move(r.error()).context("cgroup parent"));
  if (leaf.find('/') != std::string_view::npos)
    return fail(error_kind::invalid_argument,
                fmt::format("cgroup name \"{}\" has a \"/\" in it", leaf));
  if (auto problem = component_problem(leaf); !problem.empty())
    return fail(error_kind::invalid_argument,
                fmt::format("cgroup name \"{}\" is not a directory name: it is {}", leaf, problem));
  if (cgroup_parent == "/") return fmt::format("/{}", leaf);
  return fmt::format("{}/{}", cgroup_parent, leaf);
}

result<std::string> cgroup_path_for_driver(std::string_view driver, std::string_view cgroup_parent,
                                           std::string_view leaf) {
  if (driver == "cgroupfs") return cgroupfs_path(cgroup_parent, leaf);
  if (driver == "systemd")
    return fail(error_kind::invalid_argument, "cgroup driver systemd is not supported yet");
  return fail(error_kind::invalid_argument, fmt::format("unknown cgroup driver \"{}\"", driver));
}

}  // namespace ringcri::exec::cgroups
