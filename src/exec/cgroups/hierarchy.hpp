#pragma once
// The node's cgroup hierarchies, detected once at start, and the cgroups
// of pods and containers made and removed in all of them.
//
// Three layouts exist in the field: v1 (each controller, or a few together
// like cpu,cpuacct, mounted on its own), hybrid (v1 plus a cgroup2 mount at
// /sys/fs/cgroup/unified that holds whatever controllers v1 left) and pure
// v2 (one cgroup2 mount at /sys/fs/cgroup). A process joins a cgroup by
// writing itself into the cgroup.procs of every hierarchy.
//
// Blocking file system calls: run on the blocking pool, never on a reactor
// thread.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "exec/cgroups/mountinfo.hpp"
#include "exec/cgroups/paths.hpp"
#include "exec/cgroups/resources.hpp"
#include "exec/cgroups/devices.hpp"
#include "exec/cgroups/stats.hpp"

namespace ringcri::exec::cgroups {

enum class layout { v1, hybrid, v2 };

std::string_view to_string(layout kind);

class hierarchy {
 public:
  // Reads /proc/self/mountinfo.
  static result<hierarchy> detect();
  // From mountinfo text; touches no file (for tests of the parsing).
  static result<hierarchy> detect_from(std::string_view mountinfo_text);

  layout kind() const { return kind_; }
  // Every hierarchy, v1 ones first, the unified one last.
  const std::vector<cgroup_mount>& mounts() const { return mounts_; }
  // The unified hierarchy's mount, or null when there is none.
  const cgroup_mount* unified() const;

  // The hierarchy that has `controller` ("cpu", "cpuacct", "cpuset",
  // "memory", "pids", "hugetlb"...): the v1 one listing it, else the
  // unified one when the cgroup.controllers at its mount lists it (a file
  // read); null when no hierarchy has it.
  const cgroup_mount* mount_of(std::string_view controller) const;

  // Whether cgroup `path` has a directory in any hierarchy.
  bool exists(std::string_view path) const;

  // Makes the cgroup `path` (a cgroupfs path, "/kubepods/.../<id>") in
  // every hierarchy, with its missing parents, and returns the cgroup.procs
  // files a process writes itself into, one per hierarchy. A new v1 cpuset
  // cgroup gets its parent's cpus and mems (else joining fails with
  // ENOSPC); in v2 the controllers each parent has are enabled for its
  // children where the kernel allows. On failure the directories it made
  // are removed again.
  //
  // The v1 cpuset hierarchy is left out unless `with_cpuset`: making a v1
  // cpuset cgroup costs ~5 ms here (the kernel rebuilds its sched domains),
  // more than the rest of a pod start, and a process outside it simply
  // keeps its parent's cpus. Containers that ask for cpus get one (ask
  // here, or apply makes it when cpus or mems are set later).
  result<std::vector<std::string>> create(std::string_view path, bool with_cpuset = false) const;

  // Removes the cgroup `path` in every hierarchy, and cgroups below it,
  // deepest first; never its parents. A missing one is fine; one still
  // busy after ~100 ms of retries is an error naming it.
  result<void> remove(std::string_view path) const;

  // The cgroup.procs files of `path`, as create returns them, made or not.
  std::vector<std::string> procs_files(std::string_view path) const;

  // The directories of `path` in every hierarchy, for logs.
  std::string describe(std::string_view path) const;

  // The processes in cgroup `path`, over all hierarchies, sorted, no
  // duplicates. A missing cgroup has none.
  result<std::vector<pid_t>> pids(std::string_view path) const;

  // SIGKILLs every process in cgroup `path`: cgroup.kill where the unified
  // hierarchy has it; else, on v1, freezer.state FROZEN, each listed pid,
  // THAWED, so nothing forks past the kill; else each listed pid until
  // none is listed. Does not wait for them to be gone.
  result<void> kill_all(std::string_view path) const;

  // How many processes of cgroup `path` the OOM killer killed: the
  // "oom_kill" count of v1 memory.oom_control or v2 memory.events. 0 when
  // no memory controller is mounted or the cgroup is gone.
  std::uint64_t oom_kills(std::string_view path) const;

  // Writes the limits set in `wanted` (see resources.hpp) to cgroup
  // `path`, each to the hierarchy of its controller; unset fields are not
  // touched, so this is also the live update. Every field is checked
  // before anything is written: a limit whose controller no hierarchy has,
  // `unified` without a v2 hierarchy, a bad hugepage size or unified file
  // name are INVALID_ARGUMENT. A failed write names the file and value.
  //
  // v1 cpuset: when cpus or mems are set and `path` has no v1 cpuset
  // cgroup yet (create leaves it out unless asked), it is made here, with
  // its parent's cpus and mems, and the processes of `path` are moved in.
  // Lowering memory and memory+swap together, or raising them, is written
  // in the order the kernel accepts (memsw never below memory).
  result<void> apply(std::string_view path, const resources& wanted) const;

  // The limits cgroup `path` has now, in apply's terms. No limit reads as
  // 0 (unset): v1's "unlimited" memory, "-1" quota, "max" in v2. v2's
  // cpu.weight reads back as the smallest shares giving that weight.
  // `unified` is left empty. A cgroup with no directory in any hierarchy
  // is NOT_FOUND; a controller not mounted leaves its fields 0.
  result<resources> read_resources(std::string_view path) const;

  // What cgroup `path` uses now (see stats.hpp). NOT_FOUND naming it when
  // it has no directory in any hierarchy; a controller not mounted (or not
  // enabled for it in v2) leaves its fields 0 and has_cpu/has_memory/
  // has_pids false. `depth` full reads the optional fields too.
  result<cgroup_stats> stats(std::string_view path, stats_detail depth = stats_detail::usage) const;

  // Lets the processes of cgroup `path` use only the devices `allowed`
  // (see devices.hpp): v1's devices.deny "a", then each rule to
  // devices.allow where a v1 devices hierarchy is mounted, and, where a
  // unified hierarchy is (pure v2 or hybrid), the rules compiled to a BPF
  // device program attached to the unified directory of `path`, replacing
  // the one an earlier call attached (see device_program.hpp). false when
  // neither exists and nothing enforces it. Either way a child cgroup
  // cannot allow more than its parent.
  result<bool> limit_devices(std::string_view path, const std::vector<device_rule>& allowed) const;

  // The directory of `path` in one hierarchy.
  static std::string dir_of(const cgroup_mount& mount, std::string_view path);

 private:
  hierarchy(layout kind, std::vector<cgroup_mount> mounts)
      : kind_(kind), mounts_(std::move(mounts)) {}

  layout kind_;
  std::vector<cgroup_mount> mounts_;
};

}  // namespace ringcri::exec::cgroups
