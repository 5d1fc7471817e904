// cgroupfs paths: joining a CRI cgroup parent and a leaf, and refusing
// what could escape the hierarchy or is malformed; systemd slices
// expanded to cgroupfs paths; a parent of the wrong kind for the driver.

#include "exec/cgroups/paths.hpp"

#include <catch2/catch.hpp>

namespace cg = ringcri::exec::cgroups;
using ringcri::error_kind;

TEST_CASE("cgroupfs_path joins a parent and a leaf") {
  CHECK(cg::cgroupfs_path("/kubepods/besteffort/pod123", "abc") ==
        std::string("/kubepods/besteffort/pod123/abc"));
  CHECK(cg::cgroupfs_path("/", "pod1") == std::string("/pod1"));
  CHECK(cg::container_cgroup_for_driver("cgroupfs", "/kubepods", "c") == std::string("/kubepods/c"));
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

TEST_CASE("systemd slices expand to their cgroupfs paths") {
  CHECK(cg::expand_systemd_slice("kubepods-burstable-pod1234.slice") ==
        std::string("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice"));
  CHECK(cg::expand_systemd_slice("kubepods.slice") == std::string("/kubepods.slice"));
  CHECK(cg::expand_systemd_slice("system.slice") == std::string("/system.slice"));
  CHECK(cg::expand_systemd_slice("-.slice") == std::string("/"));
  // The kubelet writes a pod uid's dashes as underscores.
  CHECK(cg::expand_systemd_slice("kubepods-besteffort-pod0a1b_2c3d.slice") ==
        std::string("/kubepods.slice/kubepods-besteffort.slice/"
                    "kubepods-besteffort-pod0a1b_2c3d.slice"));
}

TEST_CASE("malformed systemd slices are refused, naming them") {
  for (std::string slice : {"", ".slice", "kubepods", "kubepods.scope", "-kubepods.slice",
                            "kubepods-.slice", "kube--pods.slice", "kube/pods.slice", "../x.slice",
                            "kube pods.slice", "kube\npods.slice", "--.slice"}) {
    INFO(slice);
    auto p = cg::expand_systemd_slice(slice);
    REQUIRE_FALSE(p);
    CHECK(p.error().kind() == error_kind::invalid_argument);
    CHECK(p.error().message().find("\"" + slice + "\"") != std::string::npos);
  }
}

TEST_CASE("the systemd driver puts a container in a scope of the expanded pod slice") {
  auto pod = cg::pod_cgroup_for_driver("systemd", "kubepods-besteffort-pod12.slice");
  REQUIRE(pod);
  CHECK(cg::container_cgroup_for_driver("systemd", *pod, "abc") ==
        std::string("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/"
                    "ringcri-abc.scope"));
  auto root = cg::pod_cgroup_for_driver("systemd", "-.slice");
  REQUIRE(root);
  CHECK(cg::container_cgroup_for_driver("systemd", *root, "abc") == std::string("/ringcri-abc.scope"));
  CHECK(cg::pod_cgroup_for_driver("systemd", "kubepods-burstable-pod9.slice") ==
        std::string("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod9.slice"));
  CHECK(cg::pod_cgroup_for_driver("cgroupfs", "/kubepods/burstable/pod9") ==
        std::string("/kubepods/burstable/pod9"));

  for (std::string leaf : {"", "..", "a/b"}) {
    INFO(leaf);
    auto p = cg::container_cgroup_for_driver("systemd", "/kubepods.slice", leaf);
    REQUIRE_FALSE(p);
    CHECK(p.error().kind() == error_kind::invalid_argument);
    CHECK(p.error().message().find("\"" + leaf + "\"") != std::string::npos);
  }
  auto bad = cg::pod_cgroup_for_driver("systemd", "kube--pods.slice");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("\"kube--pods.slice\"") != std::string::npos);
  auto bad_path = cg::pod_cgroup_for_driver("cgroupfs", "/kubepods/../x");
  REQUIRE_FALSE(bad_path);
  CHECK(bad_path.error().message().find("\"/kubepods/../x\"") != std::string::npos);
}

TEST_CASE("a cgroup parent of the other driver's kind is refused, naming value and driver") {
  auto slice_to_cgroupfs = cg::pod_cgroup_for_driver("cgroupfs", "kubepods-pod1.slice");
  REQUIRE_FALSE(slice_to_cgroupfs);
  CHECK(slice_to_cgroupfs.error().kind() == error_kind::invalid_argument);
  CHECK(slice_to_cgroupfs.error().message().find("\"kubepods-pod1.slice\"") != std::string::npos);
  CHECK(slice_to_cgroupfs.error().message().find("cgroupfs") != std::string::npos);

  auto path_to_systemd = cg::pod_cgroup_for_driver("systemd", "/kubepods/pod1");
  REQUIRE_FALSE(path_to_systemd);
  CHECK(path_to_systemd.error().kind() == error_kind::invalid_argument);
  CHECK(path_to_systemd.error().message().find("\"/kubepods/pod1\"") != std::string::npos);
  CHECK(path_to_systemd.error().message().find("systemd") != std::string::npos);

  for (auto [driver, parent] :
       {std::pair{"cgroupfs", "kubepods.slice"}, std::pair{"cgroupfs", "kubepods"},
        std::pair{"systemd", "/kubepods.slice"}, std::pair{"systemd", "/"}}) {
    INFO(driver << " " << parent);
    auto p = cg::pod_cgroup_for_driver(driver, parent);
    REQUIRE_FALSE(p);
    CHECK(p.error().kind() == error_kind::invalid_argument);
    CHECK(p.error().message().find("\"" + std::string(parent) + "\"") != std::string::npos);
    CHECK(p.error().message().find(driver) != std::string::npos);
  }

  auto other_pod = cg::pod_cgroup_for_driver("weird", "/a");
  REQUIRE_FALSE(other_pod);
  CHECK(other_pod.error().message().find("\"weird\"") != std::string::npos);
}
