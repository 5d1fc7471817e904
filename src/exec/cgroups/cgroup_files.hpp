#pragma once
// Small reads and writes of cgroup control files, and the per-version
// steps of making a cgroup (v1 cpuset inheritance, v2 controller
// delegation). Internal to src/exec/cgroups/.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::exec::cgroups::detail {

// The whole of a (small) control file.
result<std::string> read_control(const std::string& path);
// One write(2) of `value`: the kernel takes a control file's value whole.
// Errors read: write "<path>" = "<value>": <strerror>.
result<void> write_control(const std::string& path, std::string_view value);

// Whether `path` exists (a control file or a cgroup directory).
bool exists(const std::string& path);

// The words of a control file ("cpu memory pids\n", "max 100000").
std::vector<std::string> words(std::string_view text);

// `text` without leading and trailing blanks and newlines.
std::string_view trim(std::string_view text);

// A decimal number filling all of `text` but blanks around it.
std::optional<std::uint64_t> parse_number(std::string_view text);

// The number after `key` in a flat keyed file ("key value" lines:
// memory.stat, cpu.stat); nullopt when the key is absent.
std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key);

// The v1 cpuset cgroup `path` under the cpuset hierarchy's `root_dir`,
// made with its missing parents, each given its parent's cpus and mems
// (inherit_cpuset). On failure what it made is removed again.
result<void> make_v1_cpuset_cgroup(const std::string& root_dir, std::string_view path);

// v1 cpuset: gives `dir` its parent's cpuset.cpus and cpuset.mems where
// they are empty, as a new cpuset cgroup's are (a process cannot join it
// until they are set: ENOSPC).
result<void> inherit_cpuset(const std::string& parent_dir, const std::string& dir);

// v2: enables in `dir`'s cgroup.subtree_control every controller listed in
// its cgroup.controllers, one at a time. Best effort: a controller the
// kernel will not enable there (EBUSY with processes in `dir`, ENOTSUP,
// a controller bound to v1) is left off without failing anything.
void enable_subtree_controllers(const std::string& dir);

}  // namespace ringcri::exec::cgroups::detail
