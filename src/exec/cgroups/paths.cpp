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

namespace {

constexpr std::string_view slice_suffix = ".slice";

// systemd's unit name characters (VALID_CHARS in its unit-name.c).
bool unit_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
         c == '-' || c == '_' || c == '.' || c == '\\';
}

tl::unexpected<error> bad_slice(std::string_view slice, std::string_view why) {
  return fail(error_kind::invalid_argument,
              fmt::format("systemd slice \"{}\" is not a slice name: {}", slice, why));
}

// The parent's kind checked against the driver, before either parses it.
result<void> check_parent_kind(std::string_view driver, std::string_view cgroup_parent) {
  if (driver != "cgroupfs" && driver != "systemd")
    return fail(error_kind::invalid_argument, fmt::format("unknown cgroup driver \"{}\"", driver));
  if (driver == "cgroupfs" && !cgroup_parent.starts_with('/'))
    return fail(error_kind::invalid_argument,
                fmt::format("cgroup parent \"{}\" is not a cgroupfs path (one starting with "
                            "\"/\"), as the cgroup driver cgroupfs needs{}",
                            cgroup_parent,
                            cgroup_parent.ends_with(slice_suffix)
                                ? "; it is a systemd slice: is the kubelet's cgroup driver systemd?"
                                : ""));
  if (driver == "systemd" && !cgroup_parent.ends_with(slice_suffix))
    return fail(
        error_kind::invalid_argument,
        fmt::format("cgroup parent \"{}\" is not a systemd slice (a name like "
                    "\"kubepods-besteffort.slice\"), as the cgroup driver systemd needs{}",
                    cgroup_parent,
                    cgroup_parent.starts_with('/')
                        ? "; it is a cgroupfs path: is the kubelet's cgroup driver cgroupfs?"
                        : ""));
  return {};
}

}  // namespace

result<std::string> expand_systemd_slice(std::string_view slice) {
  if (slice.size() <= slice_suffix.size() || !slice.ends_with(slice_suffix))
    return bad_slice(slice, "it does not end in \".slice\"");
  if (slice.find('/') != std::string_view::npos) return bad_slice(slice, "it has a \"/\" in it");
  for (char c : slice)
    if (!unit_name_char(c))
      return bad_slice(slice, fmt::format("it has a character systemd does not allow (0x{:02x})",
                                          static_cast<unsigned char>(c)));
  std::string_view name = slice.substr(0, slice.size() - slice_suffix.size());
  if (name == "-") return std::string("/");
  if (name.front() == '-' || name.back() == '-' || name.find("--") != std::string_view::npos)
    return bad_slice(slice, "it has an empty part between dashes");

  // Each dash ends the name of a parent slice.
  std::string path;
  for (size_t dash = name.find('-');; dash = name.find('-', dash + 1)) {
    path += fmt::format("/{}{}", name.substr(0, dash), slice_suffix);
    if (dash == std::string_view::npos) break;
  }
  if (auto r = validate_cgroupfs_path(path); !r)
    return tl::unexpected<error>(
        std::move(r.error()).context(fmt::format("systemd slice \"{}\"", slice)));
  return path;
}

result<std::string> container_cgroup_for_driver(std::string_view driver, std::string_view pod_cgroup,
                                                std::string_view leaf) {
  auto plain = cgroupfs_path(pod_cgroup, leaf);  // checks the leaf as a name of its own
  if (!plain || driver != "systemd") return plain;
  return cgroupfs_path(pod_cgroup, fmt::format("ringcri-{}.scope", leaf));
}

result<std::string> pod_cgroup_for_driver(std::string_view driver, std::string_view cgroup_parent) {
  if (auto r = check_parent_kind(driver, cgroup_parent); !r) return tl::unexpected(r.error());
  if (driver == "systemd") return expand_systemd_slice(cgroup_parent);
  if (auto r = validate_cgroupfs_path(cgroup_parent); !r)
    return tl::unexpected<error>(std::move(r.error()).context("cgroup parent"));
  return std::string(cgroup_parent);
}

}  // namespace ringcri::exec::cgroups
