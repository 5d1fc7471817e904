// Reading cgroup mounts out of mountinfo text (see mountinfo.hpp).
//
// A line: id parent major:minor root mount-point options [optional...] -
// fstype source super-options. For a v1 hierarchy the controllers are the
// super-options that are not mount flags ("rw,cpu,cpuacct").

#include "exec/cgroups/mountinfo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "exec/cgroups/cgroup_files.hpp"

namespace ringcri::exec::cgroups {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  for (auto f : split(line, ' '))
    if (!f.empty()) out.push_back(f);
  return out;
}

// Super-options of a v1 cgroup mount that are not controllers.
bool is_mount_flag(std::string_view opt) {
  constexpr std::array<std::string_view, 8> flags{"rw",
                                                  "ro",
                                                  "xattr",
                                                  "noprefix",
                                                  "clone_children",
                                                  "cpuset_v2_mode",
                                                  "favordynmods",
                                                  "nofavordynmods"};
  if (std::find(flags.begin(), flags.end(), opt) != flags.end()) return true;
  return opt.starts_with("release_agent=") || opt.empty();
}

bool preferred(const cgroup_mount& m) { return m.mount_point.starts_with("/sys/fs/cgroup"); }

}  // namespace

std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

result<std::vector<mount_entry>> parse_mountinfo(std::string_view text) {
  std::vector<mount_entry> entries;
  size_t line_no = 0;
  for (auto line : split(text, '\n')) {
    ++line_no;
    if (line.empty()) continue;
    auto fields = fields_of(line);
    auto dash = std::find(fields.begin(), fields.end(), std::string_view("-"));
    if (fields.size() < 7 || dash == fields.end() || dash - fields.begin() < 6 ||
        fields.end() - dash < 4)
      return fail(error_kind::invalid_argument,
                  fmt::format("mountinfo line {} does not parse: \"{}\"", line_no, line));
    entries.push_back({std::string(fields[2]), unescape_mountinfo(fields[3]),
                       unescape_mountinfo(fields[4]), std::string(dash[1]), std::string(dash[3])});
  }
  return entries;
}

result<std::vector<mount_entry>> read_mountinfo() {
  auto text = detail::read_control("/proc/self/mountinfo");
  if (!text) return tl::unexpected(std::move(text.error()));
  return parse_mountinfo(*text);
}

result<std::vector<cgroup_mount>> parse_cgroup_mounts(std::string_view text) {
  auto entries = parse_mountinfo(text);
  if (!entries) return tl::unexpected(std::move(entries.error()));
  std::vector<cgroup_mount> mounts;
  for (auto& e : *entries) {
    if (e.fstype != "cgroup" && e.fstype != "cgroup2") continue;
    cgroup_mount m;
    m.device = std::move(e.device);
    m.root = std::move(e.root);
    m.mount_point = std::move(e.mount_point);
    m.unified = e.fstype == "cgroup2";
    for (auto opt : split(e.super_options, ','))
      if (!opt.empty()) m.options.emplace_back(opt);
    if (!m.unified)
      for (auto opt : split(e.super_options, ','))
        if (!is_mount_flag(opt)) m.controllers.emplace_back(opt);

    // One entry per hierarchy: a second mount of the same one (same device)
    // replaces the first only if it is the usual place.
    auto same = std::find_if(mounts.begin(), mounts.end(),
                             [&](const cgroup_mount& o) { return o.device == m.device; });
    if (same == mounts.end())
      mounts.push_back(std::move(m));
    else if (!preferred(*same) && preferred(m))
      *same = std::move(m);
  }
  return mounts;
}

}  // namespace ringcri::exec::cgroups
