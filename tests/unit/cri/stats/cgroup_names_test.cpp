// Pod and container cgroups for the cgroupfs and systemd drivers.

#include <catch2/catch.hpp>

#include "cri/cgroup_names.hpp"

namespace cri = ringcri::cri;
using ringcri::error_kind;

TEST_CASE("cgroupfs: the parent as given, containers below it by id") {
  auto pod = cri::pod_cgroup_of("cgroupfs", "/kubepods/burstable/pod123", "abc");
  REQUIRE(pod);
  CHECK(*pod == "/kubepods/burstable/pod123");
  CHECK(cri::container_cgroup_of("cgroupfs", *pod, "c1") == std::string("/kubepods/burstable/pod123/c1"));
  auto fallback = cri::pod_cgroup_of("cgroupfs", "", "abc");
  REQUIRE(fallback);
  CHECK(*fallback == "/ringcri/pod-abc");
  CHECK(cri::default_pod_cgroup_root("cgroupfs") == "/ringcri");
}

TEST_CASE("systemd: slices expand to their path, containers are scopes") {
  auto pod = cri::pod_cgroup_of("systemd", "kubepods-burstable-pod123.slice", "abc");
  REQUIRE(pod);
  CHECK(*pod == "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice");
  CHECK(cri::container_cgroup_of("systemd", *pod, "c1") == *pod + "/ringcri-c1.scope");
  CHECK(cri::container_cgroup_of("systemd", "/", "c1") == std::string("/ringcri-c1.scope"));
  auto fallback = cri::pod_cgroup_of("systemd", "", "abc");
  REQUIRE(fallback);
  CHECK(*fallback == "/ringcri.slice/ringcri-podabc.slice");
  CHECK(cri::default_pod_cgroup_root("systemd") == "/ringcri.slice");
}

TEST_CASE("a parent the driver cannot take is INVALID_ARGUMENT naming it") {
  auto slice_to_cgroupfs = cri::pod_cgroup_of("cgroupfs", "kubepods.slice", "abc");
  REQUIRE_FALSE(slice_to_cgroupfs);
  CHECK(slice_to_cgroupfs.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(slice_to_cgroupfs.error().message(), Catch::Contains("kubepods.slice"));
  auto path_to_systemd = cri::pod_cgroup_of("systemd", "/kubepods/burstable", "abc");
  REQUIRE_FALSE(path_to_systemd);
  CHECK(path_to_systemd.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(path_to_systemd.error().message(), Catch::Contains("/kubepods/burstable"));
  auto dots = cri::pod_cgroup_of("cgroupfs", "/kubepods/../etc", "abc");
  REQUIRE_FALSE(dots);
  CHECK(dots.error().kind() == error_kind::invalid_argument);
}
