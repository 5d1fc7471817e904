// remove_pod_dir: removes the pod's dir with its held namespaces, and
// never deletes through a mount still under it.

#include <sys/mount.h>

#include <catch2/catch.hpp>

#include "exec/sandbox/namespaces.hpp"
#include "ns_test_support.hpp"

namespace sb = ringcri::exec::sandbox;
namespace fs = std::filesystem;
using namespace sandbox_test;

TEST_CASE("remove_pod_dir removes the dir, its files and its held namespaces") {
  need_root("make namespaces and bind mounts");
  temp_dir tmp;
  const fs::path pod_dir = tmp.path / "pod";
  REQUIRE(sb::hold_namespaces(pod_dir, {true, true, true, "pod"}));
  fs::create_directories(pod_dir / "containers" / "c1");
  { std::ofstream(pod_dir / "containers" / "c1" / "state") << "x"; }
  { std::ofstream(pod_dir / "hosts") << "127.0.0.1 localhost\n"; }

  auto removed = sb::remove_pod_dir(pod_dir);
  INFO((removed ? "" : removed.error().message()));
  REQUIRE(removed);
  CHECK_FALSE(fs::exists(pod_dir));
  CHECK(mounts_under(tmp.path).empty());
  CHECK(sb::remove_pod_dir(pod_dir));  // again: nothing there is fine
}

TEST_CASE("remove_pod_dir refuses to delete through a mount under the pod dir") {
  need_root("make bind mounts");
  temp_dir tmp;
  const fs::path pod_dir = tmp.path / "pod";
  const fs::path outside = tmp.path / "outside";
  fs::create_directories(pod_dir / "rootfs");
  fs::create_directories(outside);
  { std::ofstream(outside / "precious") << "keep"; }
  REQUIRE(::mount(outside.c_str(), (pod_dir / "rootfs").c_str(), nullptr, MS_BIND, nullptr) == 0);

  auto removed = sb::remove_pod_dir(pod_dir);
  ::umount2((pod_dir / "rootfs").c_str(), MNT_DETACH);
  REQUIRE_FALSE(removed);
  INFO(removed.error().message());
  CHECK(removed.error().message().find((pod_dir / "rootfs").string()) != std::string::npos);
  CHECK(read_file(outside / "precious") == "keep");

  REQUIRE(sb::remove_pod_dir(pod_dir));
  CHECK_FALSE(fs::exists(pod_dir));
  CHECK(read_file(outside / "precious") == "keep");
}
