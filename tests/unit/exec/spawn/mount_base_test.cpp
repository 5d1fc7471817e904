// The mount base (mount_base.hpp) against the real kernel: what it holds
// is read from inside it, what a container cloned from it sees from inside
// the container.

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "exec/spawn/mount_base.hpp"
#include "spawn_fixture.hpp"

using namespace ringcri;
using namespace ringcri::exec;
using namespace spawn_test;

namespace {

// /proc/self/mountinfo as a process in the namespace of `ns_fd` reads it.
std::string mountinfo_in(int ns_fd) {
  auto p = make_pipe();
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::setns(ns_fd, CLONE_NEWNS) < 0) ::_exit(1);
    int in = ::open("/proc/self/mountinfo", O_RDONLY);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(in, buf, sizeof buf)) > 0)
      if (::write(p.write.get(), buf, static_cast<size_t>(n)) != n) ::_exit(1);
    ::_exit(0);
  }
  p.write.reset();
  std::string text = read_all(p.read.get());
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  return text;
}

// Unmounts `path` when the test ends, however it ends.
struct mounted {
  std::string path;
  ~mounted() { ::umount2(path.c_str(), MNT_DETACH); }
};

// A small tmpfs on `dir` (made if missing), on the host.
mounted mount_tmpfs(const std::string& dir) {
  std::filesystem::create_directories(dir);
  REQUIRE(::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=1m") == 0);
  return mounted{dir};
}

}  // namespace

TEST_CASE("the mount base holds no namespace hold and nothing mounted after it was made",
          "[spawn]") {
  skip_unless_able();
  temp_dir host;
  // A pod's hold, as the daemon makes it: a bind mount of an nsfs file.
  write_file(host.path() + "/net", "");
  REQUIRE(::mount("/proc/self/ns/net", (host.path() + "/net").c_str(), nullptr, MS_BIND, nullptr) == 0);
  mounted hold{host.path() + "/net"};
  REQUIRE(mounts_under(host.path()).size() == 1);

  auto base = make_mount_base();
  INFO((base ? "" : base.error().message()));
  REQUIRE(base);
  mounted late = mount_tmpfs(host.path() + "/late");

  std::string inside = mountinfo_in(base->get());
  CHECK(inside.find(" - nsfs ") == std::string::npos);
  CHECK(inside.find(host.path()) == std::string::npos);
  CHECK(inside.find(" / / ") != std::string::npos);  // the node's root is there
}

TEST_CASE("a container cloned from the mount base binds sources mounted after it was made",
          "[spawn]") {
  skip_unless_able();
  image img;
  temp_dir host;
  auto base = make_mount_base();
  INFO((base ? "" : base.error().message()));
  REQUIRE(base);
  // Mounted after the base: only the host's namespace has it.
  mounted late = mount_tmpfs(host.path() + "/late");
  write_file(host.path() + "/late/file", "late\n");

  auto rootfs = img.rootfs("based");
  auto spec = default_spec(rootfs, {"sh", "-c",
                                    "cat /data/file /etc/layer; echo out > /data/result; "
                                    "grep -c nsfs /proc/self/mountinfo || true"});
  spec.mounts.push_back({"/data", "bind", host.path() + "/late", {"rbind", "rw"}});
  auto made = make_detached_overlay(spec.rootfs);
  REQUIRE(made);
  auto r = run(spec, made->get(), base->get());
  INFO(r.created.message << r.started.message << r.err);
  CHECK(r.exit.code == 0);
  CHECK(r.out == "late\ntop\n0\n");
  CHECK(read_file(host.path() + "/late/result") == "out\n");
  // Nothing of the container is left mounted on the host.
  CHECK(mounts_under(rootfs.target).empty());
}
