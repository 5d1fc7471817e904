// hold_namespaces / release_namespaces against real namespaces: the held
// files are other namespaces than the test's, they outlive their maker,
// loopback is up, the hostname is set, and failures leave nothing.

#include "exec/sandbox/namespaces.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <thread>
#include <vector>

#include "ns_test_support.hpp"
#include "support/skip.hpp"

namespace sb = ringcri::exec::sandbox;
namespace fs = std::filesystem;
using namespace sandbox_test;

namespace {

// The inode of the test's own namespace of `kind`, from readlink
// /proc/self/ns/<kind> ("net:[4026531840]").
ino_t own_ns_inode(const char* kind) {
  char buf[64] = {};
  ssize_t n = ::readlink((std::string("/proc/self/ns/") + kind).c_str(), buf, sizeof buf - 1);
  REQUIRE(n > 0);
  std::string link(buf, static_cast<size_t>(n));
  auto open = link.find('[');
  REQUIRE(open != std::string::npos);
  return static_cast<ino_t>(std::stoull(link.substr(open + 1)));
}

ino_t inode_of(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

struct held_pod {
  temp_dir tmp;
  fs::path pod_dir = tmp.path / "pod";
  ~held_pod() { (void)sb::release_namespaces(pod_dir); }
};

bool have(const char* program) {
  int status = 0;
  run(std::string("command -v ") + program + " >/dev/null 2>&1", &status);
  return status == 0;
}

}  // namespace

TEST_CASE("hold_namespaces makes new net, ipc and uts namespaces held by files") {
  need_root("make namespaces and bind mounts");
  held_pod pod;
  auto held = sb::hold_namespaces(pod.pod_dir, {true, true, true, "pod-one"});
  INFO((held ? "" : held.error().message()));
  REQUIRE(held);
  CHECK(held->network == (pod.pod_dir / "ns" / "net").string());
  CHECK(held->ipc == (pod.pod_dir / "ns" / "ipc").string());
  CHECK(held->uts == (pod.pod_dir / "ns" / "uts").string());
  CHECK(inode_of(held->network) != own_ns_inode("net"));
  CHECK(inode_of(held->ipc) != own_ns_inode("ipc"));
  CHECK(inode_of(held->uts) != own_ns_inode("uts"));
  // Three different namespaces, each held by a mount.
  CHECK(inode_of(held->network) != inode_of(held->ipc));
  auto mounts = mounts_under(pod.pod_dir);
  CHECK(mounts.find(held->network) != std::string::npos);
  CHECK(mounts.find(held->ipc) != std::string::npos);
  CHECK(mounts.find(held->uts) != std::string::npos);
}

TEST_CASE("the held network namespace outlives its maker and has only lo, up") {
  need_root("make namespaces and bind mounts");
  held_pod pod;
  auto held = sb::hold_namespaces(pod.pod_dir, {true, true, true, "pod-net"});
  REQUIRE(held);

  // The holding child is gone (hold_namespaces reaped it); a process that
  // joins the held file sees the namespace it made.
  auto seen = in_namespace(held->network, CLONE_NEWNET, [] {
    std::string names;
    struct if_nameindex* list = ::if_nameindex();
    for (auto* i = list; i && i->if_index != 0; ++i) names += std::string(i->if_name) + " ";
    ::if_freenameindex(list);
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    std::memset(&ifr, 0, sizeof ifr);
    std::strcpy(ifr.ifr_name, "lo");
    bool up = sock >= 0 && ::ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
    return names + (up ? "up" : "down");
  });
  CHECK(seen == "lo up");

  if (have("nsenter") && have("ip")) {
    int status = 0;
    auto links = run("nsenter --net=" + held->network + " ip -o link", &status);
    REQUIRE(status == 0);
    CHECK(std::count(links.begin(), links.end(), '\n') == 1);
    CHECK(links.find(": lo: <LOOPBACK,UP") != std::string::npos);
  } else {
    ringcri::testing::skip_case("nsenter or ip missing: lo checked from a setns child only");
  }
}

TEST_CASE("the held uts namespace has the pod's hostname") {
  need_root("make namespaces and bind mounts");
  held_pod pod;
  auto held = sb::hold_namespaces(pod.pod_dir, {false, false, true, "pod-uts-name"});
  REQUIRE(held);
  CHECK(held->network.empty());
  CHECK(held->ipc.empty());
  auto name = in_namespace(held->uts, CLONE_NEWUTS, [] {
    char buf[128] = {};
    ::gethostname(buf, sizeof buf - 1);
    return std::string(buf);
  });
  CHECK(name == "pod-uts-name");
  if (have("nsenter")) {
    int status = 0;
    CHECK(run("nsenter --uts=" + held->uts + " hostname", &status) == "pod-uts-name\n");
    CHECK(status == 0);
  }
  // The test's own hostname is untouched.
  char own[128] = {};
  ::gethostname(own, sizeof own - 1);
  CHECK(std::string(own) != "pod-uts-name");
}

TEST_CASE("host namespaces give empty paths and make no files") {
  need_root("make namespaces and bind mounts");
  held_pod pod;
  SECTION("all host") {
    auto held = sb::hold_namespaces(pod.pod_dir, {false, false, false, "ignored"});
    REQUIRE(held);
    CHECK(held->network.empty());
    CHECK(held->ipc.empty());
    CHECK(held->uts.empty());
    CHECK_FALSE(fs::exists(pod.pod_dir / "ns"));
  }
  SECTION("host network, own ipc and uts") {
    auto held = sb::hold_namespaces(pod.pod_dir, {false, true, true, "mixed"});
    REQUIRE(held);
    CHECK(held->network.empty());
    CHECK_FALSE(fs::exists(pod.pod_dir / "ns" / "net"));
    CHECK(fs::exists(held->ipc));
    CHECK(fs::exists(held->uts));
  }
}

TEST_CASE("release_namespaces leaves no mount and no file, and is idempotent") {
  need_root("make namespaces and bind mounts");
  held_pod pod;
  REQUIRE(sb::hold_namespaces(pod.pod_dir, {true, true, true, "pod-release"}));
  REQUIRE_FALSE(mounts_under(pod.pod_dir).empty());

  auto released = sb::release_namespaces(pod.pod_dir);
  INFO((released ? "" : released.error().message()));
  REQUIRE(released);
  CHECK(mounts_under(pod.pod_dir).empty());
  CHECK_FALSE(fs::exists(pod.pod_dir / "ns"));
  CHECK(fs::exists(pod.pod_dir));  // the pod dir itself is not its to remove

  CHECK(sb::release_namespaces(pod.pod_dir));
  CHECK(sb::release_namespaces(pod.tmp.path / "never-made"));
}

TEST_CASE("release_namespaces after a restart needs only the pod dir") {
  need_root("make namespaces and bind mounts");
  held_pod pod;
  {
    auto held = sb::hold_namespaces(pod.pod_dir, {true, true, true, "pod-restart"});
    REQUIRE(held);
  }  // nothing of the result is kept
  REQUIRE(sb::release_namespaces(fs::path(pod.pod_dir.string())));
  CHECK(mounts_under(pod.pod_dir).empty());
}

TEST_CASE("hold_namespaces fails without leaving anything") {
  need_root("make namespaces and bind mounts");
  temp_dir tmp;

  SECTION("a pod dir that cannot be made") {
    const fs::path blocker = tmp.path / "a-file";
    { std::ofstream(blocker) << "x"; }
    auto held = sb::hold_namespaces(blocker / "pod", {true, true, true, "p"});
    REQUIRE_FALSE(held);
    CHECK(held.error().message().find((blocker / "pod").string()) != std::string::npos);
    CHECK(read_file(blocker) == "x");
    CHECK(std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator()) == 1);
  }

  SECTION("a failure in the child after two mounts") {
    const fs::path pod_dir = tmp.path / "deep" / "pod";
    auto held = sb::detail::hold_namespaces(pod_dir, {true, true, true, "p"},
                                            sb::detail::hold_step::mount_uts);
    REQUIRE_FALSE(held);
    const auto& msg = held.error().message();
    INFO(msg);
    CHECK(msg.find("bind-mount /proc/self/ns/uts onto " + (pod_dir / "ns" / "uts").string()) !=
          std::string::npos);
    CHECK(held.error().sys_errno() == EIO);
    CHECK(mounts_under(tmp.path).empty());
    CHECK_FALSE(fs::exists(tmp.path / "deep"));
  }

  SECTION("a failure in the child before any mount") {
    const fs::path pod_dir = tmp.path / "pod";
    auto held = sb::detail::hold_namespaces(pod_dir, {true, true, true, "p"},
                                            sb::detail::hold_step::loopback_set_flags);
    REQUIRE_FALSE(held);
    CHECK(held.error().message().find("bring up lo") != std::string::npos);
    CHECK_FALSE(fs::exists(pod_dir));
  }

  SECTION("a hostname too long for the kernel") {
    const fs::path pod_dir = tmp.path / "pod";
    auto held = sb::hold_namespaces(pod_dir, {true, true, true, std::string(65, 'h')});
    REQUIRE_FALSE(held);
    CHECK(held.error().kind() == ringcri::error_kind::invalid_argument);
    CHECK_FALSE(fs::exists(pod_dir));
  }

  SECTION("namespace files already there are not taken over nor removed") {
    const fs::path pod_dir = tmp.path / "pod";
    fs::create_directories(pod_dir / "ns");
    { std::ofstream(pod_dir / "ns" / "ipc") << "old"; }
    auto held = sb::hold_namespaces(pod_dir, {true, true, true, "p"});
    REQUIRE_FALSE(held);
    CHECK(held.error().kind() == ringcri::error_kind::already_exists);
    CHECK(read_file(pod_dir / "ns" / "ipc") == "old");
    CHECK_FALSE(fs::exists(pod_dir / "ns" / "net"));
    CHECK(mounts_under(tmp.path).empty());
  }
}

TEST_CASE("hold_namespaces works while other threads allocate, as in the daemon") {
  need_root("make namespaces and bind mounts");
  // The daemon is multi-threaded: its other threads may hold malloc's
  // locks when the holder is cloned, which must not hang the child.
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int i = 0; i < 2; ++i)
    busy.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        std::vector<std::string> junk;
        for (int j = 0; j < 64; ++j) junk.emplace_back(1000 + j, 'x');
      }
    });
  held_pod pod;
  bool all_held = true;
  for (int i = 0; i < 20 && all_held; ++i) {
    auto held = sb::hold_namespaces(pod.pod_dir, {true, true, true, "busy"});
    all_held = held && sb::release_namespaces(pod.pod_dir);
  }
  stop = true;
  for (auto& t : busy) t.join();
  CHECK(all_held);
  CHECK(mounts_under(pod.pod_dir).empty());
}

namespace {

// The inode of the user namespace that owns the namespace held at `path`
// (ioctl NS_GET_USERNS), as the host sees it.
ino_t owner_of(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  int owner = ::ioctl(fd, NS_GET_USERNS);
  ::close(fd);
  REQUIRE(owner >= 0);
  struct stat st;
  REQUIRE(::fstat(owner, &st) == 0);
  ::close(owner);
  return st.st_ino;
}

sb::namespace_request userns_request(const std::string& hostname) {
  sb::namespace_request req{true, true, true, hostname};
  req.uid_mappings = {{0, 400000, 65536}};
  req.gid_mappings = {{0, 410000, 65536}};
  return req;
}

}  // namespace

TEST_CASE("with a user namespace, the pod's namespaces are owned by it") {
  need_root("make namespaces and bind mounts");
  held_pod pod;
  auto held = sb::hold_namespaces(pod.pod_dir, userns_request("pod-userns"));
  INFO((held ? "" : held.error().message()));
  REQUIRE(held);
  REQUIRE(held->user == (pod.pod_dir / "ns" / "user").string());
  const ino_t user = inode_of(held->user);
  CHECK(user != own_ns_inode("user"));
  CHECK(owner_of(held->network) == user);
  CHECK(owner_of(held->ipc) == user);
  CHECK(owner_of(held->uts) == user);

  // The maps, as a process that joined the held namespace shows them.
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = ::open(held->user.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWUSER) != 0) ::_exit(1);
    std::string map = read_file("/proc/self/uid_map");
    ::_exit(map.find("400000") != std::string::npos && map.find("65536") != std::string::npos ? 0
                                                                                              : 2);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  REQUIRE(sb::release_namespaces(pod.pod_dir));
  CHECK(mounts_under(pod.pod_dir).empty());
  CHECK_FALSE(fs::exists(pod.pod_dir / "ns"));
}

TEST_CASE("with a user namespace, a failure in the child leaves nothing") {
  need_root("make namespaces and bind mounts");
  temp_dir tmp;
  const fs::path pod_dir = tmp.path / "pod";
  auto held =
      sb::detail::hold_namespaces(pod_dir, userns_request("p"), sb::detail::hold_step::open_ipc);
  REQUIRE_FALSE(held);
  INFO(held.error().message());
  CHECK(held.error().message().find("open /proc/self/ns/ipc") != std::string::npos);
  CHECK(mounts_under(tmp.path).empty());
  CHECK_FALSE(fs::exists(pod_dir));
}
