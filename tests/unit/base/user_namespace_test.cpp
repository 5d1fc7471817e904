// make_user_namespace and open_idmapped_tree against the real kernel: the
// namespace has the maps asked for, and an overlay whose lower layers are
// idmapped mounts shows the layers' files with mapped owners while what a
// process of the namespace writes lands in the upper dir owned by the
// mapped host ids. This is what a pod with hostUsers: false relies on.

#include "base/sys/user_namespace.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base_support.hpp"
#include "support/skip.hpp"

namespace sys = ringcri::sys;
using namespace base_test;

namespace {

constexpr std::uint32_t host_base = 300000;  // ids no user of the machine has
const std::vector<sys::id_mapping> mapping{{0, host_base, 65536}};

// Mounts made by the tests stay in a mount namespace of the test binary's
// own, gone when it exits.
struct private_mounts {
  private_mounts() {
    if (::geteuid() != 0)
      ringcri::testing::skip_binary("needs root to make mounts and user namespaces");
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount("", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      std::perror("a private mount namespace for the test");
      std::exit(1);
    }
  }
};

struct stat stat_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

void attach(int tree, const fs::path& target) {
  REQUIRE(::move_mount(tree, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) == 0);
}

// Runs `body` in a child that joined `userns` as its root (uid 0 there)
// and returns its exit status: 0 means every check of `body` held.
template <class Body>
int as_namespace_root(int userns, Body body) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::setns(userns, CLONE_NEWUSER) != 0) ::_exit(100);
    if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) ::_exit(101);
    ::_exit(body());
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

std::string map_of(pid_t pid, const char* file) {
  return slurp(fs::path("/proc") / std::to_string(pid) / file);
}

}  // namespace

static private_mounts mounts_stay_here;

TEST_CASE("make_user_namespace: the namespace has the maps asked for") {
  auto ns = sys::make_user_namespace(mapping, {{0, host_base + 1000, 500}});
  REQUIRE(ns);
  int pipefd[2], joined[2];
  REQUIRE(::pipe(pipefd) == 0);
  REQUIRE(::pipe(joined) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipefd[1]);
    if (::setns(ns->get(), CLONE_NEWUSER) != 0) ::_exit(1);
    if (::write(joined[1], "j", 1) != 1) ::_exit(2);
    char b;
    (void)::read(pipefd[0], &b, 1);
    ::_exit(0);
  }
  ::close(joined[1]);
  char b;
  REQUIRE(::read(joined[0], &b, 1) == 1);
  ::close(joined[0]);
  // Read from outside the namespace: the host ids are shown as they are.
  CHECK(map_of(pid, "uid_map").find("300000") != std::string::npos);
  std::string uid_map = map_of(pid, "uid_map"), gid_map = map_of(pid, "gid_map");
  CHECK(uid_map.find(" 0 ") != std::string::npos);
  CHECK(uid_map.find("65536") != std::string::npos);
  CHECK(gid_map.find("301000") != std::string::npos);
  CHECK(gid_map.find("500") != std::string::npos);
  ::close(pipefd[1]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(status == 0);
  ::close(pipefd[0]);
}

TEST_CASE("host_id_of maps ids inside a range and gives overflow outside") {
  CHECK(sys::host_id_of(mapping, 0) == host_base);
  CHECK(sys::host_id_of(mapping, 65535) == host_base + 65535);
  CHECK(sys::host_id_of(mapping, 65536) == sys::overflow_id);
  CHECK(sys::host_id_of({}, 0) == sys::overflow_id);
}

TEST_CASE(
    "an overlay over idmapped lower layers shows mapped owners and writes as the mapped root") {
  temp_dir tmp;
  // The test reaches the merged dir by its host path (a container has it as /).
  REQUIRE(::chmod(tmp.path.c_str(), 0755) == 0);
  const fs::path lower = tmp.path / "lower", upper = tmp.path / "upper", work = tmp.path / "work",
                 merged = tmp.path / "merged";
  for (const auto& d : {lower, upper, work, merged}) REQUIRE(::mkdir(d.c_str(), 0755) == 0);
  // The layer as an image pull leaves it: owned by uid 0, one file by 5:7.
  REQUIRE(::close(::open((lower / "root_file").c_str(), O_CREAT | O_WRONLY, 0644)) == 0);
  REQUIRE(::close(::open((lower / "user_file").c_str(), O_CREAT | O_WRONLY, 0644)) == 0);
  REQUIRE(::chown((lower / "user_file").c_str(), 5, 7) == 0);
  // Only the container's own empty writable dirs belong to its root.
  REQUIRE(::chown(upper.c_str(), host_base, host_base) == 0);
  REQUIRE(::chown(work.c_str(), host_base, host_base) == 0);

  auto ns = sys::make_user_namespace(mapping, mapping);
  REQUIRE(ns);
  auto tree = sys::open_idmapped_tree(lower.c_str(), ns->get(), false);
  if (!tree) FAIL("idmapped mount of an ext4 dir: " << tree.error().message());
  attach(tree->get(), lower);  // over itself, as the container's set-up does
  const std::string data =
      "lowerdir=" + lower.string() + ",upperdir=" + upper.string() + ",workdir=" + work.string();
  REQUIRE(::mount("overlay", merged.c_str(), "overlay", 0, data.c_str()) == 0);

  // From the host: the layer's owners shifted by the mapping.
  CHECK(stat_of(merged / "root_file").st_uid == host_base);
  CHECK(stat_of(merged / "root_file").st_gid == host_base);
  CHECK(stat_of(merged / "user_file").st_uid == host_base + 5);
  CHECK(stat_of(merged / "user_file").st_gid == host_base + 7);

  // From inside: the image's own ids, and what its root writes is its own.
  int inside = as_namespace_root(ns->get(), [&]() -> int {
    struct stat st {};
    if (::stat((merged / "root_file").c_str(), &st) != 0 || st.st_uid != 0 || st.st_gid != 0)
      return 2;
    if (::stat((merged / "user_file").c_str(), &st) != 0 || st.st_uid != 5 || st.st_gid != 7)
      return 3;
    int fd = ::open((merged / "new_file").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return 4;
    ::close(fd);
    // A write to a layer's file copies it up.
    fd = ::open((merged / "root_file").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "x", 1) != 1) return 5;
    ::close(fd);
    if (::mkdir((merged / "new_dir").c_str(), 0755) != 0) return 6;
    return 0;
  });
  CHECK(inside == 0);

  // On the host, in the upper dir: owned by the mapped root, not by host root.
  CHECK(stat_of(upper / "new_file").st_uid == host_base);
  CHECK(stat_of(upper / "new_file").st_gid == host_base);
  CHECK(stat_of(upper / "root_file").st_uid == host_base);
  CHECK(stat_of(upper / "new_dir").st_uid == host_base);
  REQUIRE(::umount2(merged.c_str(), MNT_DETACH) == 0);
  REQUIRE(::umount2(lower.c_str(), MNT_DETACH) == 0);
  CHECK(stat_of(lower / "root_file").st_uid == 0);
  CHECK(stat_of(lower / "user_file").st_uid == 5);
  CHECK(stat_of(lower / "root_file").st_size == 0);
}

TEST_CASE("an idmapped mount of a tmpfs shows the mapped owners") {
  temp_dir tmp;
  const fs::path src = tmp.path / "tmpfs", dst = tmp.path / "dst";
  REQUIRE(::mkdir(src.c_str(), 0755) == 0);
  REQUIRE(::mkdir(dst.c_str(), 0755) == 0);
  REQUIRE(::mount("tmpfs", src.c_str(), "tmpfs", 0, "size=64k") == 0);
  REQUIRE(::close(::open((src / "f").c_str(), O_CREAT | O_WRONLY, 0644)) == 0);
  REQUIRE(::chown((src / "f").c_str(), 1001, 1001) == 0);
  auto ns = sys::make_user_namespace(mapping, mapping);
  REQUIRE(ns);
  auto tree = sys::open_idmapped_tree(src.c_str(), ns->get(), false);
  if (!tree) FAIL("idmapped mount of a tmpfs: " << tree.error().message());
  attach(tree->get(), dst);
  CHECK(stat_of(dst / "f").st_uid == host_base + 1001);
  CHECK(stat_of(src / "f").st_uid == 1001);
  REQUIRE(::umount2(dst.c_str(), MNT_DETACH) == 0);
  REQUIRE(::umount2(src.c_str(), MNT_DETACH) == 0);
}

TEST_CASE("open_idmapped_tree names the path it could not clone") {
  auto ns = sys::make_user_namespace(mapping, mapping);
  REQUIRE(ns);
  auto tree = sys::open_idmapped_tree("/nonexistent/ringcri", ns->get(), false);
  REQUIRE(!tree);
  CHECK(tree.error().message().find("/nonexistent/ringcri") != std::string::npos);
}
