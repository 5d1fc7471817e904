#pragma once
// crun 1.8 refuses a hybrid cgroup layout (v1 controllers under
// /sys/fs/cgroup/<name>, cgroup2 at /sys/fs/cgroup/unified) while the v2
// hierarchy holds a controller; on such a node (hugetlb left on v2, say)
// this moves each controller of /sys/fs/cgroup/unified/cgroup.controllers
// to a v1 hierarchy of its own for the crun run, and puts the node back
// exactly afterwards:
//
//   change:  -<c> to unified/cgroup.subtree_control (if it is there),
//            mkdir /sys/fs/cgroup/<c>, mount -t cgroup -o <c> cgroup /sys/fs/cgroup/<c>
//   restore: umount; until /proc/cgroups shows <c> back on v2 (hierarchy
//            0; the kernel keeps a v1 hierarchy alive while a child cgroup,
//            even a dying one, remains, and takes seconds to end one that
//            has none) give each umount 15 s, then mount it again, rmdir
//            the empty child cgroups left, umount, for up to 5 minutes;
//            then +<c> back, rmdir the mount point if it was made here, and
//            compare subtree_control with what it was.
//
// Pure v1, pure v2, or a v2 hierarchy with no controller: nothing to do.
// Everything is printed as it is done, and a warning names whatever could
// not be put back. The destructor restores; so does an interrupted run, on
// its way out (the runtime that used the cgroups is stopped, and its
// cgroups removed, first: declare this before it).

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace ringcri::bench {

class cgroup_layout_for_crun {
 public:
  cgroup_layout_for_crun();  // throws (after undoing its part) if it cannot change the layout
  ~cgroup_layout_for_crun();
  cgroup_layout_for_crun(const cgroup_layout_for_crun&) = delete;
  cgroup_layout_for_crun& operator=(const cgroup_layout_for_crun&) = delete;

  bool changed() const { return !moved_.empty(); }
  // Puts the node back, once (later calls do nothing); true if all of it was.
  bool restore();

 private:
  struct controller {
    std::string name;
    std::filesystem::path mount_point;
    bool was_enabled = false;  // in the v2 root's subtree_control before
    bool made_dir = false;
    bool mounted = false;
  };
  bool restore_locked();

  std::mutex mutex_;
  std::string original_subtree_control_;
  std::vector<controller> moved_;
  bool restored_ = false;
  bool restored_ok_ = true;
};

}  // namespace ringcri::bench
