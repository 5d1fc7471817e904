// The container's mounts: defaults, the pod's files, the request's binds
// sorted by depth, propagation and read-only, replacing defaults, and the
// error for a host path that does not exist.

#include "cri/spec/mounts.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "base/sys/mount_setattr.hpp"

using namespace ringcri::cri::spec;
using ringcri::error_kind;
using ringcri::exec::mount_spec;
using strings = std::vector<std::string>;

namespace {

struct host_dir {
  std::string root;
  host_dir() {
    char tmpl[] = "/tmp/ringcri-mounts-XXXXXX";
    root = ::mkdtemp(tmpl);
  }
  ~host_dir() {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  std::string dir(const std::string& rel) const {
    std::filesystem::create_directories(root + rel);
    return root + rel;
  }
  std::string file(const std::string& rel) const {
    std::filesystem::create_directories(std::filesystem::path(root + rel).parent_path());
    std::ofstream(root + rel) << "x";
    return root + rel;
  }
};

runtime::v1::Mount* add_mount(runtime::v1::ContainerConfig& c, const std::string& dst,
                              const std::string& src) {
  auto* m = c.add_mounts();
  m->set_container_path(dst);
  m->set_host_path(src);
  return m;
}

strings destinations(const std::vector<mount_spec>& mounts) {
  strings out;
  for (const auto& m : mounts) out.push_back(m.destination);
  return out;
}

const mount_spec& at(const std::vector<mount_spec>& mounts, const std::string& dst) {
  for (const auto& m : mounts)
    if (m.destination == dst) return m;
  FAIL("no mount on " << dst);
  return mounts.front();
}

}  // namespace

TEST_CASE("defaults in order with their options", "[mounts]") {
  runtime::v1::ContainerConfig c;
  auto m = container_mounts(c, {}, false, false);
  REQUIRE(m);
  CHECK(destinations(*m) ==
        strings{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"});
  CHECK(at(*m, "/proc").type == "proc");
  CHECK(at(*m, "/proc").options == strings{"nosuid", "noexec", "nodev"});
  CHECK(at(*m, "/dev").options == strings{"nosuid", "strictatime", "mode=755", "size=65536k"});
  CHECK(at(*m, "/dev/pts").options ==
        strings{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  CHECK(at(*m, "/dev/shm").type == "tmpfs");
  CHECK(at(*m, "/dev/shm").options ==
        strings{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"});
  CHECK(at(*m, "/dev/mqueue").type == "mqueue");
  CHECK(at(*m, "/sys").options == strings{"nosuid", "noexec", "nodev", "ro"});
}

TEST_CASE("a privileged container's /sys is writable", "[mounts]") {
  runtime::v1::ContainerConfig c;
  auto m = container_mounts(c, {}, false, true);
  REQUIRE(m);
  CHECK(at(*m, "/sys").options == strings{"nosuid", "noexec", "nodev", "rw"});
}

TEST_CASE("the pod's files are rbind rprivate, read-only with a read-only rootfs", "[mounts]") {
  host_dir h;
  pod_paths pod;
  pod.hosts = h.file("/pod/hosts");
  pod.resolv_conf = h.file("/pod/resolv.conf");
  pod.hostname = h.file("/pod/hostname");
  runtime::v1::ContainerConfig c;
  auto m = container_mounts(c, pod, false, false);
  REQUIRE(m);
  CHECK(destinations(*m) == strings{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
                                    "/sys/fs/cgroup", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf"});
  CHECK(at(*m, "/etc/hosts").type == "bind");
  CHECK(at(*m, "/etc/hosts").source == pod.hosts);
  CHECK(at(*m, "/etc/hosts").options == strings{"rbind", "rprivate", "rw"});
  auto ro = container_mounts(c, pod, true, false);
  REQUIRE(ro);
  CHECK(at(*ro, "/etc/resolv.conf").options == strings{"rbind", "rprivate", "ro"});
  CHECK(at(*ro, "/etc/hostname").options == strings{"rbind", "rprivate", "ro"});
}

TEST_CASE("a pod without a file gets no mount for it", "[mounts]") {
  host_dir h;
  pod_paths pod;
  pod.resolv_conf = h.file("/pod/resolv.conf");
  runtime::v1::ContainerConfig c;
  auto m = container_mounts(c, pod, false, false);
  REQUIRE(m);
  CHECK(destinations(*m).back() == "/etc/resolv.conf");
  CHECK(m->size() == 8);
}

TEST_CASE("request mounts are sorted by depth, stably, after the defaults", "[mounts]") {
  host_dir h;
  pod_paths pod;
  pod.hosts = h.file("/pod/hosts");
  runtime::v1::ContainerConfig c;
  add_mount(c, "/data/a/b", h.dir("/1"));
  add_mount(c, "/data", h.dir("/2"));
  add_mount(c, "/etc", h.dir("/3"));
  add_mount(c, "/var/log/", h.dir("/4"));
  add_mount(c, "/opt", h.dir("/5"));
  auto m = container_mounts(c, pod, false, false);
  REQUIRE(m);
  // /etc before /etc/hosts, so the pod's hosts file is not hidden under
  // the request's /etc; among equal depths the request's order.
  CHECK(destinations(*m) == strings{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
                                    "/sys/fs/cgroup", "/data", "/etc", "/opt", "/var/log", "/etc/hosts",
                                    "/data/a/b"});
}

TEST_CASE("propagation and read-only of a request mount", "[mounts]") {
  host_dir h;
  runtime::v1::ContainerConfig c;
  add_mount(c, "/private", h.dir("/p"));
  auto* slave = add_mount(c, "/slave", h.dir("/s"));
  slave->set_propagation(runtime::v1::PROPAGATION_HOST_TO_CONTAINER);
  slave->set_readonly(true);
  auto* shared = add_mount(c, "/shared", h.dir("/b"));
  shared->set_propagation(runtime::v1::PROPAGATION_BIDIRECTIONAL);
  shared->set_selinux_relabel(true);  // ignored
  auto m = container_mounts(c, {}, false, false);
  REQUIRE(m);
  CHECK(at(*m, "/private").options == strings{"rbind", "rprivate", "rw"});
  CHECK(at(*m, "/private").source == h.root + "/p");
  CHECK(at(*m, "/private").type == "bind");
  CHECK(at(*m, "/slave").options == strings{"rbind", "rslave", "ro"});
  CHECK(at(*m, "/shared").options == strings{"rbind", "rshared", "rw"});
}

TEST_CASE("a request mount replaces the default or pod mount on its path", "[mounts]") {
  host_dir h;
  pod_paths pod;
  pod.hosts = h.file("/pod/hosts");
  runtime::v1::ContainerConfig c;
  add_mount(c, "/etc/hosts", h.file("/mine/hosts"));
  add_mount(c, "/dev/shm/", h.dir("/shm"));
  auto m = container_mounts(c, pod, false, false);
  REQUIRE(m);
  CHECK(destinations(*m) ==
        strings{"/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/etc/hosts", "/dev/shm"});
  CHECK(at(*m, "/etc/hosts").source == h.root + "/mine/hosts");
  CHECK(at(*m, "/dev/shm").type == "bind");
}

TEST_CASE("a request /dev replaces every default under /dev", "[mounts]") {
  host_dir h;
  runtime::v1::ContainerConfig c;
  add_mount(c, "/dev", h.dir("/dev"));
  auto m = container_mounts(c, {}, false, false);
  REQUIRE(m);
  CHECK(destinations(*m) == strings{"/proc", "/sys", "/sys/fs/cgroup", "/dev"});
}

TEST_CASE("a missing host path is NOT_FOUND naming it", "[mounts]") {
  host_dir h;
  runtime::v1::ContainerConfig c;
  add_mount(c, "/data", h.root + "/does/not/exist");
  auto m = container_mounts(c, {}, false, false);
  REQUIRE(!m);
  CHECK(m.error().kind() == error_kind::not_found);
  CHECK_THAT(m.error().message(),
             Catch::Contains(h.root + "/does/not/exist") && Catch::Contains("/data"));
  CHECK(!std::filesystem::exists(h.root + "/does"));  // nothing made on the host
}

TEST_CASE("a symlinked host path is mounted from its target", "[mounts]") {
  host_dir h;
  std::string target = h.dir("/real");
  std::filesystem::create_symlink(target, h.root + "/link");
  runtime::v1::ContainerConfig c;
  add_mount(c, "/data", h.root + "/link");
  auto m = container_mounts(c, {}, false, false);
  REQUIRE(m);
  CHECK(at(*m, "/data").source == target);
}

TEST_CASE("malformed request mounts are refused", "[mounts]") {
  host_dir h;
  SECTION("relative container path") {
    runtime::v1::ContainerConfig c;
    add_mount(c, "data", h.dir("/d"));
    auto m = container_mounts(c, {}, false, false);
    REQUIRE(!m);
    CHECK(m.error().kind() == error_kind::invalid_argument);
  }
  SECTION("no host path") {
    runtime::v1::ContainerConfig c;
    add_mount(c, "/data", "");
    auto m = container_mounts(c, {}, false, false);
    REQUIRE(!m);
    CHECK(m.error().kind() == error_kind::invalid_argument);
  }
}

TEST_CASE("recursive read-only: an rro rbind when read-only and private, else refused",
          "[mounts]") {
  host_dir h;
  const std::string dir = h.dir("/d");
  SECTION("read-only and private") {
    runtime::v1::ContainerConfig c;
    auto* mnt = add_mount(c, "/data", dir);
    mnt->set_readonly(true);
    mnt->set_recursive_read_only(true);
    auto m = container_mounts(c, {}, false, false);
    if (!ringcri::sys::kernel_has_mount_setattr()) {
      REQUIRE(!m);
      CHECK(m.error().kind() == error_kind::invalid_argument);
      return;
    }
    REQUIRE(m);
    CHECK(at(*m, "/data").options == std::vector<std::string>{"rbind", "rprivate", "ro", "rro"});
  }
  SECTION("plain read-only stays top-level only") {
    runtime::v1::ContainerConfig c;
    add_mount(c, "/data", dir)->set_readonly(true);
    auto m = container_mounts(c, {}, false, false);
    REQUIRE(m);
    CHECK(at(*m, "/data").options == std::vector<std::string>{"rbind", "rprivate", "ro"});
  }
  SECTION("read-write") {
    runtime::v1::ContainerConfig c;
    add_mount(c, "/data", dir)->set_recursive_read_only(true);
    auto m = container_mounts(c, {}, false, false);
    REQUIRE(!m);
    CHECK(m.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(m.error().message(), Catch::Contains("/data") && Catch::Contains(dir));
  }
  for (auto prop :
       {runtime::v1::PROPAGATION_HOST_TO_CONTAINER, runtime::v1::PROPAGATION_BIDIRECTIONAL}) {
    DYNAMIC_SECTION("propagation " << runtime::v1::MountPropagation_Name(prop)) {
      runtime::v1::ContainerConfig c;
      auto* mnt = add_mount(c, "/data", dir);
      mnt->set_readonly(true);
      mnt->set_recursive_read_only(true);
      mnt->set_propagation(prop);
      auto m = container_mounts(c, {}, false, false);
      REQUIRE(!m);
      CHECK(m.error().kind() == error_kind::invalid_argument);
      CHECK_THAT(m.error().message(),
                 Catch::Contains("/data") && Catch::Contains(dir) &&
                     Catch::Contains(runtime::v1::MountPropagation_Name(prop)));
    }
  }
}

TEST_CASE("clean_path", "[mounts]") {
  CHECK(clean_path("/a//b/./c/../") == "/a/b");
  CHECK(clean_path("/../x") == "/x");
  CHECK(clean_path("/") == "/");
  CHECK(clean_path("a/../..") == "..");
  CHECK(clean_path("") == ".");
}

TEST_CASE("/sys/fs/cgroup: read-only unless privileged, and the node's hierarchies by name") {
  auto plain = default_mounts(false);
  REQUIRE(plain.back().destination == "/sys/fs/cgroup");
  CHECK(plain.back().type == "cgroup");
  CHECK(std::find(plain.back().options.begin(), plain.back().options.end(), "ro") != plain.back().options.end());
  auto privileged = default_mounts(true);
  CHECK(std::find(privileged.back().options.begin(), privileged.back().options.end(), "rw") !=
        privileged.back().options.end());

  using ringcri::exec::cgroups::cgroup_mount;
  std::vector<cgroup_mount> hybrid = {
      {"/sys/fs/cgroup/cpu,cpuacct", "/", false, {"cpu", "cpuacct"}, "0:1", {}},
      {"/sys/fs/cgroup/systemd", "/", false, {"name=systemd"}, "0:2", {}},
      {"/sys/fs/cgroup/unified", "/", true, {}, "0:3", {}},
  };
  auto tree = cgroup_tree(hybrid);
  REQUIRE(tree.size() == 3);
  CHECK(tree[0].name == "cpu,cpuacct");
  CHECK(tree[0].type == "cgroup");
  CHECK(tree[0].options == "cpu,cpuacct");
  CHECK(tree[0].mount_point == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(tree[0].root == "/");
  CHECK(tree[1].name == "systemd");
  CHECK(tree[1].options == "none,name=systemd");
  CHECK(tree[2].name == "unified");
  CHECK(tree[2].type == "cgroup2");
  CHECK(tree[2].options.empty());
  CHECK(tree[2].mount_point.empty());  // cgroup2 is mounted anew: it costs no lock

  auto pure = cgroup_tree({{"/sys/fs/cgroup", "/", true, {}, "0:4", {}}});
  REQUIRE(pure.size() == 1);
  CHECK(pure[0].name.empty());
  CHECK(pure[0].type == "cgroup2");
}

TEST_CASE("a requested /sys replaces the default /sys/fs/cgroup too") {
  runtime::v1::ContainerConfig config;
  auto* m = config.add_mounts();
  m->set_container_path("/sys");
  m->set_host_path("/sys");
  auto mounts = container_mounts(config, pod_paths{}, false, false);
  REQUIRE(mounts);
  for (const auto& x : *mounts) CHECK(x.destination != "/sys/fs/cgroup");
}
