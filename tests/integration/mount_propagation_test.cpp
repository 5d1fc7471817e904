// Mount propagation of a container's bind mounts, as the CRI names it:
// PRIVATE (nothing crosses), HOST_TO_CONTAINER (the host's new mounts show
// inside) and BIDIRECTIONAL (both ways: what the container mounts beneath
// it shows on the host too). Each checked from both sides with a tmpfs
// mounted on each side after the container started. And read-only binds:
// recursive (every submount too) or not (the top mount only).

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

namespace {

// A host dir with a tmpfs mounted on its "sub" dir, as critest's
// recursive read-only specs set up.
struct dir_with_submount {
  temp_dir dir{"ringcri-rro"};
  fs::path source() const { return dir.path() / "src"; }
  dir_with_submount() {
    fs::create_directories(source() / "sub");
    REQUIRE(::mount("rro-sub", (source() / "sub").c_str(), "tmpfs", 0, nullptr) == 0);
  }
  ~dir_with_submount() { ::umount2((source() / "sub").c_str(), MNT_DETACH); }
};

v1::Mount* add_readonly_mount(v1::ContainerConfig& config, const fs::path& source, bool recursive) {
  auto* m = config.add_mounts();
  m->set_host_path(source.string());
  m->set_container_path("/mnt/vol");
  m->set_readonly(true);
  m->set_recursive_read_only(recursive);
  return m;
}

// What `touch <path>` says inside the container: "ok" or the error.
std::string touch_in(runtime_fixture& f, const std::string& id, const std::string& path) {
  grpc::Status st;
  auto out = f.exec(id, {"sh", "-c", "touch " + path + " 2>&1 && echo ok"}, &st);
  REQUIRE(st.ok());
  return out.stdout();
}

}  // namespace

TEST_CASE(
    "recursive read-only: the rbind and its submounts refuse writes; plain read-only only the "
    "top") {
  skip_unless_ready();
  dir_with_submount src;
  runtime_fixture f;
  v1::StatusResponse status;
  REQUIRE(f.client.runtime_call(&S::Status, v1::StatusRequest{}, &status).ok());
  REQUIRE(status.runtime_handlers_size() > 0);
  if (!status.runtime_handlers(0).features().recursive_read_only_mounts()) {
    skip_case("the kernel lacks mount_setattr: no recursive read-only mounts");
    return;
  }

  auto pod_config = f.pod_config("rro");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());

  auto rro = f.container_config("rro", {"sleep", "1000"});
  add_readonly_mount(rro, src.source(), true);
  auto rro_id = f.create_and_start(pod, pod_config, rro);
  CHECK_THAT(touch_in(f, rro_id, "/mnt/vol/top"), Catch::Contains("Read-only file system"));
  CHECK_THAT(touch_in(f, rro_id, "/mnt/vol/sub/file"), Catch::Contains("Read-only file system"));
  // The host's own mounts stay writable: only the container's copy changed.
  CHECK(std::ofstream(src.source() / "sub" / "from-host").good());

  // As under runc (and critest's non-recursive spec): "ro" is the top mount only.
  auto plain = f.container_config("plain", {"sleep", "1000"});
  add_readonly_mount(plain, src.source(), false);
  auto plain_id = f.create_and_start(pod, pod_config, plain);
  CHECK_THAT(touch_in(f, plain_id, "/mnt/vol/top"), Catch::Contains("Read-only file system"));
  CHECK(touch_in(f, plain_id, "/mnt/vol/sub/file") == "ok\n");

  // Refused: read-write, or a propagation other than private.
  auto refused = [&](const std::string& name, bool readonly, v1::MountPropagation propagation) {
    auto config = f.container_config(name, {"sleep", "1000"});
    auto* m = add_readonly_mount(config, src.source(), true);
    m->set_readonly(readonly);
    m->set_propagation(propagation);
    std::string id;
    auto st = f.create(pod, pod_config, config, &id);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(st.error_message(),
               Catch::Contains("/mnt/vol") && Catch::Contains(src.source().string()));
  };
  refused("rw", false, v1::PROPAGATION_PRIVATE);
  refused("slave", true, v1::PROPAGATION_HOST_TO_CONTAINER);
  refused("shared", true, v1::PROPAGATION_BIDIRECTIONAL);
  CHECK(f.container_count() == 2);

  f.remove_pod(pod);
  f.check_nothing_left();
}
