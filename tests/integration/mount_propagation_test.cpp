// Mount propagation of a container's bind mounts, as the CRI names it:
// PRIVATE (nothing crosses), HOST_TO_CONTAINER (the host's new mounts show
// inside) and BIDIRECTIONAL (both ways: what the container mounts beneath
// it shows on the host too). Each checked from both sides with a tmpfs
// mounted on each side after the container started.

#include <sys/mount.h>

#include "support/runtime_fixture.hpp"

using namespace ringcri::testing;

namespace {

struct shared_source {
  temp_dir dir{"ringcri-prop"};
  fs::path source() const { return dir.path() / "src"; }
  shared_source() {
    fs::create_directories(source() / "from-host");
    fs::create_directories(source() / "from-container");
    // A shared mount of its own, as kubelet makes its pods dir rshared.
    REQUIRE(::mount(source().c_str(), source().c_str(), nullptr, MS_BIND, nullptr) == 0);
    REQUIRE(::mount(nullptr, source().c_str(), nullptr, MS_SHARED, nullptr) == 0);
  }
  ~shared_source() {
    ::umount2((source() / "from-host").c_str(), MNT_DETACH);
    ::umount2((source() / "from-container").c_str(), MNT_DETACH);
    ::umount2(source().c_str(), MNT_DETACH);
  }
};

struct seen {
  bool host_sees_container_mount;
  bool container_sees_host_mount;
};

seen try_propagation(v1::MountPropagation propagation) {
  shared_source src;
  runtime_fixture f;
  auto pod_config = f.pod_config("prop");
  pod_config.mutable_linux()->mutable_security_context()->set_privileged(true);
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto config = f.container_config("c", {"sh", "-c", "mount -t tmpfs ctmp /mnt/vol/from-container && sleep 1000"});
  config.mutable_linux()->mutable_security_context()->set_privileged(true);
  auto* m = config.add_mounts();
  m->set_host_path(src.source().string());
  m->set_container_path("/mnt/vol");
  m->set_propagation(propagation);
  auto id = f.create_and_start(pod, pod_config, config);

  // The container's mount is made (it shows inside), then the host's.
  grpc::Status st;
  for (int i = 0; i < 200; ++i) {
    auto out = f.exec(id, {"grep", "-c", "ctmp", "/proc/self/mountinfo"}, &st);
    if (st.ok() && out.exit_code() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(::mount("htmp", (src.source() / "from-host").c_str(), "tmpfs", 0, nullptr) == 0);

  seen s{};
  s.host_sees_container_mount = !mounts_under((src.source() / "from-container").string()).empty();
  auto out = f.exec(id, {"grep", "-c", "htmp", "/proc/self/mountinfo"}, &st);
  REQUIRE(st.ok());
  s.container_sees_host_mount = out.exit_code() == 0;
  // Gone from the host before the pod goes, whatever crossed.
  ::umount2((src.source() / "from-container").c_str(), MNT_DETACH);
  f.remove_pod(pod);
  f.check_nothing_left();
  return s;
}

}  // namespace

TEST_CASE("mount propagation PRIVATE: nothing crosses either way") {
  skip_unless_ready();
  auto s = try_propagation(v1::PROPAGATION_PRIVATE);
  CHECK_FALSE(s.host_sees_container_mount);
  CHECK_FALSE(s.container_sees_host_mount);
}

TEST_CASE("mount propagation HOST_TO_CONTAINER: the host's mounts show inside, not the other way") {
  skip_unless_ready();
  auto s = try_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  CHECK_FALSE(s.host_sees_container_mount);
  CHECK(s.container_sees_host_mount);
}

TEST_CASE("mount propagation BIDIRECTIONAL: both ways (critest's rshared spec)") {
  skip_unless_ready();
  auto s = try_propagation(v1::PROPAGATION_BIDIRECTIONAL);
  CHECK(s.host_sees_container_mount);
  CHECK(s.container_sees_host_mount);
}
