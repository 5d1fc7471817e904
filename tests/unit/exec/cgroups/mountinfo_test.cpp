// Detecting the cgroup layout from mountinfo text: v1, hybrid, pure v2.
// No root and no real cgroup is touched.

#include <catch2/catch.hpp>

#include "exec/cgroups/hierarchy.hpp"

namespace cg = ringcri::exec::cgroups;

namespace {

// An Ubuntu 18.04-like v1 node; memory is also bind-mounted elsewhere
// first, and the cgroup2 mount is absent.
const char* const v1_sample =
    "25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup "
    "cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "90 60 0:28 /kubepods /var/lib/other/memory rw,relatime - cgroup cgroup rw,memory\n"
    "29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - "
    "cgroup cgroup rw,cpu,cpuacct\n"
    "30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:14 - "
    "cgroup cgroup rw,net_cls,net_prio\n"
    "31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup "
    "cgroup rw,memory\n"
    "32 25 0:29 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:16 - cgroup "
    "cgroup rw,cpuset,clone_children\n"
    "33 25 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup "
    "cgroup rw,pids\n"
    "34 22 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=4000k\n";

// This kind of node: v1 controllers plus a cgroup2 mount at .../unified.
const char* const hybrid_sample =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n";

// A systemd unified node (Debian 11+, Ubuntu 22.04+).
const char* const v2_sample =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

std::vector<std::string> mount_points(const cg::hierarchy& h) {
  std::vector<std::string> out;
  for (const auto& m : h.mounts()) out.push_back(m.mount_point);
  return out;
}

}  // namespace

TEST_CASE("mountinfo of a v1 node") {
  auto h = cg::hierarchy::detect_from(v1_sample);
  REQUIRE(h);
  CHECK(h->kind() == cg::layout::v1);
  CHECK(h->unified() == nullptr);
  // One entry per hierarchy; memory at its /sys/fs/cgroup mount.
  CHECK(mount_points(*h) ==
        std::vector<std::string>{"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/memory",
                                 "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/net_cls,net_prio",
                                 "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/pids"});
  CHECK(h->mounts()[0].controllers == std::vector<std::string>{"name=systemd"});
  CHECK(h->mounts()[2].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(h->mounts()[4].controllers == std::vector<std::string>{"cpuset"});
  CHECK(h->procs_files("/kubepods/pod1/c1") ==
        std::vector<std::string>{"/sys/fs/cgroup/systemd/kubepods/pod1/c1/cgroup.procs",
                                 "/sys/fs/cgroup/memory/kubepods/pod1/c1/cgroup.procs",
                                 "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1/cgroup.procs",
                                 "/sys/fs/cgroup/net_cls,net_prio/kubepods/pod1/c1/cgroup.procs",
                                 "/sys/fs/cgroup/cpuset/kubepods/pod1/c1/cgroup.procs",
                                 "/sys/fs/cgroup/pids/kubepods/pod1/c1/cgroup.procs"});
}

TEST_CASE("mountinfo of a hybrid node") {
  auto h = cg::hierarchy::detect_from(hybrid_sample);
  REQUIRE(h);
  CHECK(h->kind() == cg::layout::hybrid);
  REQUIRE(h->unified() != nullptr);
  CHECK(h->unified()->mount_point == "/sys/fs/cgroup/unified");
  // The unified hierarchy comes last.
  CHECK(mount_points(*h) ==
        std::vector<std::string>{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct",
                                 "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/memory",
                                 "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"});
  CHECK(h->procs_files("/a").back() == "/sys/fs/cgroup/unified/a/cgroup.procs");
  CHECK(h->describe("/a") ==
        "cgroup /a (hybrid: /sys/fs/cgroup/cpu/a /sys/fs/cgroup/cpuacct/a /sys/fs/cgroup/cpuset/a "
        "/sys/fs/cgroup/memory/a /sys/fs/cgroup/systemd/a /sys/fs/cgroup/unified/a)");
}

TEST_CASE("mountinfo of a pure v2 node") {
  auto h = cg::hierarchy::detect_from(v2_sample);
  REQUIRE(h);
  CHECK(h->kind() == cg::layout::v2);
  REQUIRE(h->mounts().size() == 1);
  CHECK(h->unified() == &h->mounts()[0]);
  CHECK(h->procs_files("/kubepods/besteffort/pod9/abc") ==
        std::vector<std::string>{"/sys/fs/cgroup/kubepods/besteffort/pod9/abc/cgroup.procs"});
  CHECK(h->procs_files("/") == std::vector<std::string>{"/sys/fs/cgroup/cgroup.procs"});
}

TEST_CASE("mountinfo escapes in mount points are undone") {
  auto h =
      cg::hierarchy::detect_from("31 30 0:28 / /mnt/my\\040cgroups rw - cgroup cgroup rw,pids\n");
  REQUIRE(h);
  CHECK(h->mounts()[0].mount_point == "/mnt/my cgroups");
  CHECK(cg::unescape_mountinfo("a\\134b\\011") == "a\\b\t");
}

TEST_CASE("mountinfo without cgroups or that does not parse is an error") {
  auto none = cg::hierarchy::detect_from("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
  REQUIRE_FALSE(none);
  CHECK(none.error().message().find("no cgroup") != std::string::npos);

  auto broken = cg::hierarchy::detect_from("22 1 8:1 / / rw - ext4 /dev/sda1 rw\nnonsense here\n");
  REQUIRE_FALSE(broken);
  CHECK(broken.error().message().find("line 2") != std::string::npos);
}

TEST_CASE("mountinfo keeps a hierarchy's own options") {
  auto h = cg::hierarchy::detect_from(
      "40 30 0:37 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,favordynmods\n");
  REQUIRE(h);
  CHECK(h->mounts()[0].options == std::vector<std::string>{"rw", "nsdelegate", "favordynmods"});
}

TEST_CASE("mountinfo line that ends at the file system's source is an error, not a read past it") {
  auto cut = cg::hierarchy::detect_from("31 30 0:28 / /sys/fs/cgroup/pids rw - cgroup cgroup\n");
  REQUIRE_FALSE(cut);
  CHECK(cut.error().message().find("line 1") != std::string::npos);
}

TEST_CASE("parse_mountinfo lists every mount with its type, escapes undone") {
  auto mounts = cg::parse_mountinfo(
      "34 22 0:5 / /dev rw,nosuid - devtmpfs udev rw,size=4000k\n"
      "812 30 0:4 net:[4026532301] /run/ringcri/pods/p1/ns/net rw shared:1 - nsfs nsfs rw\n"
      "813 30 0:50 / /mnt/with\\040space rw - tmpfs tmpfs rw\n");
  REQUIRE(mounts);
  REQUIRE(mounts->size() == 3);
  CHECK((*mounts)[0].fstype == "devtmpfs");
  CHECK((*mounts)[1].fstype == "nsfs");
  CHECK((*mounts)[1].mount_point == "/run/ringcri/pods/p1/ns/net");
  CHECK((*mounts)[1].root == "net:[4026532301]");
  CHECK((*mounts)[2].mount_point == "/mnt/with space");
  CHECK((*mounts)[2].super_options == "rw");

  auto broken = cg::parse_mountinfo("34 22 0:5 / /dev rw\n");
  REQUIRE_FALSE(broken);
  CHECK(broken.error().message().find("line 1") != std::string::npos);
}
