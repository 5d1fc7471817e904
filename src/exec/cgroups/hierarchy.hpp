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
  // keeps its parent's cpus. Containers that ask for cpus get one.
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

  // SIGKILLs every process in cgroup `path` (cgroup.kill where the unified
  // hierarchy has it, and each listed pid). Does not wait for them.
  result<void> kill_all(std::string_view path) const;

  // How many processes of cgroup `path` the OOM killer killed: the
  // "oom_kill" count of v1 memory.oom_control or v2 memory.events. 0 when
  // no memory controller is mounted or the cgroup is gone.
  std::uint64_t oom_kills(std::string_view path) const;

  // The directory of `path` in one hierarchy.
  static std::string dir_of(const cgroup_mount& mount, std::string_view path);

 private:
  hierarchy(layout kind, std::vector<cgroup_mount> mounts)
      : kind_(kind), mounts_(std::move(mounts)) {}

  layout kind_;
  std::vector<cgroup_mount> mounts_;
};

}  // namespace ringcri::exec::cgroups
