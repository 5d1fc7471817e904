// cgroupfs paths: joining a CRI cgroup parent and a leaf, and refusing
// what could escape the hierarchy or is malformed.

#include "exec/cgroups/paths.hpp"

#include <catch2/catch.hpp>

namespace cg = ringcri::exec::cgroups;
using ringcri::error_kind;

TEST_CASE("cgroupfs_path joins a parent and a leaf") {
  CHECK(cg::cgroupfs_path("/kubepods/besteffort/pod123", "abc") ==
        std::string("/kubepods/besteffort/pod123/abc"));
  CHECK(cg::cgroupfs_path("/", "pod1") == std::string("/pod1"));
  CHECK(cg::cgroup_path_for_driver("cgroupfs", "/kubepods", "c") == std::string("/kubepods/c"));
}

TEST_CASE("cgroupfs_path refuses bad parents, naming them") {
  for (std::string parent : {"", "kubepods/pod1", "/kubepods/../etc", "/kubepods//pod1",
                             "/kubepods/", "/kubepods/./pod1", "/kube\npods"}) {
    INFO(parent);
    auto p = cg::cgroupfs_path(parent, "c");
    REQUIRE_FALSE(p);
    CHECK(p.error().kind() == error_kind::invalid_argument);
    CHECK(p.error().message().find("\"" + parent + "\"") != std::string::npos);
  }
}

TEST_CASE("cgroupfs_path refuses bad leaves, naming them") {
  for (std::string leaf : {"", "..", ".", "a/b", "/c"}) {
    INFO(leaf);
    auto p = cg::cgroupfs_path("/kubepods", leaf);
    REQUIRE_FALSE(p);
    CHECK(p.error().kind() == error_kind::invalid_argument);
    CHECK(p.error().message().find("\"" + leaf + "\"") != std::string::npos);
  }
}

TEST_CASE("the systemd cgroup driver is not supported yet") {
  auto p = cg::cgroup_path_for_driver("systemd", "kubepods-besteffort.slice", "cri:abc");
  REQUIRE_FALSE(p);
  CHECK(p.error().kind() == error_kind::invalid_argument);
  CHECK(p.error().message() == "cgroup driver systemd is not supported yet");
  auto other = cg::cgroup_path_for_driver("weird", "/a", "b");
  REQUIRE_FALSE(other);
  CHECK(other.error().message().find("\"weird\"") != std::string::npos);
}
