// Device programs in the real kernel: a child process moved into a cgroup
// v2 directory that holds a program opens and makes device nodes, and the
// kernel's answers are checked from the parent.
//
// The test process and its children stay in their v1 devices cgroup (the
// node's root one here, which allows everything: the parent opens the same
// nodes as a control, and each child is checked to share the parent's v1
// cgroups), so every EPERM seen in a child is the BPF program's.
//
// Needs root and a cgroup2 mount (exit 77 without them, or when the kernel
// will not load a device program: EPERM, ENOSYS). Makes its cgroups below
// the test's own cgroup v2 directory and removes them, programs with them,
// at the end.

#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "exec/cgroups/device_program.hpp"
#include "exec/cgroups/hierarchy.hpp"
#include "exec/cgroups/mountinfo.hpp"

namespace cg = ringcri::exec::cgroups;
namespace fs = std::filesystem;
using ringcri::error_kind;

namespace {

[[noreturn]] void skip(const std::string& why) {
  std::printf("SKIP: %s\n", why.c_str());
  std::fflush(stdout);
  std::exit(77);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The cgroup2 mount and this process's directory in it.
struct own_cgroup {
  std::string mountinfo_line;  // the cgroup2 mount's line of /proc/self/mountinfo
  std::string path;            // this process's cgroup, relative to the mount ("/" here)
  std::string dir;             // its directory
};

own_cgroup find_own_cgroup() {
  if (::geteuid() != 0) skip("needs root to make cgroups and load BPF programs");
  own_cgroup out;
  std::istringstream lines(read_file("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(lines, line))
    if (line.find(" - cgroup2 ") != std::string::npos) {
      out.mountinfo_line = line + "\n";
      break;
    }
  if (out.mountinfo_line.empty()) skip("no cgroup2 mount in /proc/self/mountinfo");
  auto mounts = cg::parse_cgroup_mounts(out.mountinfo_line);
  REQUIRE(mounts);
  REQUIRE(mounts->size() == 1);
  const cg::cgroup_mount& mount = mounts->front();

  std::istringstream cgroups(read_file("/proc/self/cgroup"));
  while (std::getline(cgroups, line))
    if (line.rfind("0::", 0) == 0) out.path = line.substr(3);
  REQUIRE_FALSE(out.path.empty());
  // The mount may show only a subtree (a cgroup namespace's or a
  // container's view): the path is then below the mount's root.
  if (mount.root != "/") {
    if (out.path.rfind(mount.root, 0) != 0)
      skip("this process's cgroup is outside the cgroup2 mount");
    out.path = out.path.substr(mount.root.size());
    if (out.path.empty()) out.path = "/";
  }
  out.dir = cg::hierarchy::dir_of(mount, out.path);
  return out;
}

// Skips unless the kernel loads a device program at all.
void require_device_programs() {
  auto program = cg::compile_device_program({});
  REQUIRE(program);
  auto loaded = cg::load_device_program(*program);
  if (!loaded && (loaded.error().sys_errno() == EPERM || loaded.error().sys_errno() == ENOSYS))
    skip("the kernel does not load a cgroup device program here: " + loaded.error().message());
  INFO((loaded ? "" : loaded.error().message()));
  REQUIRE(loaded);
}

// A cgroup of the test's own below this process's cgroup, and cgroups
// below it, removed at the end (deepest first) even when a check fails.
// Every process put in one is reaped before (run_in waits for it), so the
// directories are empty; the kernel frees the programs attached to them
// with them.
struct scratch_cgroup {
  std::string dir;
  std::vector<std::string> below;

  explicit scratch_cgroup(const own_cgroup& own) {
    static int count = 0;
    const std::string base = own.dir == "/" ? "" : own.dir;
    dir = base + "/ringcri-devices-test-" + std::to_string(::getpid()) + "-" +
          std::to_string(count++);
    if (::mkdir(dir.c_str(), 0755) != 0) FAIL("mkdir " << dir << ": " << std::strerror(errno));
  }
  std::string make(const std::string& relative) {
    const std::string sub = dir + "/" + relative;
    if (::mkdir(sub.c_str(), 0755) != 0) FAIL("mkdir " << sub << ": " << std::strerror(errno));
    below.push_back(sub);
    return sub;
  }
  ~scratch_cgroup() {
    for (auto it = below.rbegin(); it != below.rend(); ++it)
      if (::rmdir(it->c_str()) != 0)
        std::printf("rmdir %s: %s\n", it->c_str(), std::strerror(errno));
    if (::rmdir(dir.c_str()) != 0) std::printf("rmdir %s: %s\n", dir.c_str(), std::strerror(errno));
  }
};

// A temporary directory for device nodes, on a file system that lets them
// be opened (not nodev), removed at the end.
struct node_dir {
  fs::path path;
  node_dir() {
    char tmpl[] = "/tmp/ringcri-devices-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) FAIL("mkdtemp: " << std::strerror(errno));
    path = tmpl;
    struct statvfs st;
    REQUIRE(::statvfs(tmpl, &st) == 0);
    if (st.f_flag & ST_NODEV) {
      std::error_code ec;
      fs::remove_all(path, ec);
      skip("/tmp is mounted nodev: device nodes made there cannot be opened");
    }
  }
  ~node_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string node(const char* name, mode_t type, unsigned major, unsigned minor) const {
    const std::string p = (path / name).string();
    if (::mknod(p.c_str(), type | 0600, ::makedev(major, minor)) != 0)
      FAIL("mknod " << p << ": " << std::strerror(errno));
    return p;
  }
  // A block node that this process may open read-only (nothing is read):
  // loop0, else one numbered as the disk holding this directory.
  std::string block_node() const {
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    for (auto [major, minor] :
         {std::pair<unsigned, unsigned>{7, 0}, {::major(st.st_dev), ::minor(st.st_dev)}}) {
      if (major == 0) continue;  // no block device under this file system
      const std::string name = "block-" + std::to_string(major) + "-" + std::to_string(minor);
      const std::string p = node(name.c_str(), S_IFBLK, major, minor);
      int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        ::close(fd);
        return p;
      }
      std::printf("block node %u:%u does not open here: %s\n", major, minor, std::strerror(errno));
    }
    skip("no block device opens here, even outside any device program (loop0, the disk of /tmp)");
  }
};

// What a child does, and what it got: 0 or the errno.
struct action {
  enum kind_t { open_read, open_read_write, make_char, make_block } kind;
  std::string path;
  unsigned major = 0, minor = 0;
};

std::string describe(const action& a) {
  switch (a.kind) {
    case action::open_read:
      return "open " + a.path + " O_RDONLY";
    case action::open_read_write:
      return "open " + a.path + " O_RDWR";
    case action::make_char:
      return "mknod " + a.path + " c " + std::to_string(a.major) + ":" + std::to_string(a.minor);
    case action::make_block:
      return "mknod " + a.path + " b " + std::to_string(a.major) + ":" + std::to_string(a.minor);
  }
  return "";
}

int perform(const action& a) {
  switch (a.kind) {
    case action::open_read:
    case action::open_read_write: {
      int fd =
          ::open(a.path.c_str(), (a.kind == action::open_read ? O_RDONLY : O_RDWR) | O_CLOEXEC);
      if (fd < 0) return errno;
      ::close(fd);
      return 0;
    }
    case action::make_char:
    case action::make_block: {
      const mode_t type = a.kind == action::make_char ? S_IFCHR : S_IFBLK;
      if (::mknod(a.path.c_str(), type | 0600, ::makedev(a.major, a.minor)) != 0) return errno;
      ::unlink(a.path.c_str());
      return 0;
    }
  }
  return EINVAL;
}

// Every /proc/PID/cgroup line but the cgroup v2 one ("0::").
std::string v1_cgroups_of(const std::string& pid) {
  std::istringstream lines(read_file("/proc/" + pid + "/cgroup"));
  std::string line, out;
  while (std::getline(lines, line))
    if (line.rfind("0::", 0) != 0) out += line + "\n";
  return out;
}

// Forks a child, moves it into `cgroup_dir` (its pid to cgroup.procs,
// written by the parent while the child waits), lets it do `actions`, and
// returns what each got. The child reports through a pipe; it is reaped
// before this returns, whatever fails.
std::vector<int> run_in(const std::string& cgroup_dir, const std::vector<action>& actions) {
  int go[2], report[2];
  REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(go[1]);
    ::close(report[0]);
    char c = 0;
    if (::read(go[0], &c, 1) != 1 || c != 'g') ::_exit(2);
    for (const auto& a : actions) {
      const int got = perform(a);
      if (::write(report[1], &got, sizeof(got)) != sizeof(got)) ::_exit(3);
    }
    ::_exit(0);
  }
  ::close(go[0]);
  ::close(report[1]);
  struct reaper {
    pid_t pid;
    int go, report;
    int status = -1;
    int reap() {
      if (go >= 0) ::close(std::exchange(go, -1));
      if (pid > 0 && ::waitpid(std::exchange(pid, -1), &status, 0) < 0) status = -1;
      return status;
    }
    ~reaper() {
      if (pid > 0) ::kill(pid, SIGKILL);
      reap();
      ::close(report);
    }
  } child{pid, go[1], report[0]};

  {
    std::ofstream procs(cgroup_dir + "/cgroup.procs");
    procs << pid;
    procs.flush();
    INFO("write " << pid << " to " << cgroup_dir << "/cgroup.procs");
    REQUIRE(procs.good());
  }
  // It is in that cgroup v2 directory, and in the same v1 cgroups as this
  // process (devices among them).
  const std::string own = std::to_string(::getpid()), child_pid = std::to_string(pid);
  CHECK(v1_cgroups_of(child_pid) == v1_cgroups_of(own));
  const std::string v2_suffix = cgroup_dir.substr(cgroup_dir.find("/ringcri-devices-test-")) + "\n";
  const std::string all = read_file("/proc/" + child_pid + "/cgroup");
  const std::string v2_line = all.substr(all.find("0::"));
  INFO("child's cgroup v2: " << v2_line);
  CHECK(v2_line.size() > v2_suffix.size());
  CHECK(v2_line.substr(v2_line.size() - v2_suffix.size()) == v2_suffix);

  REQUIRE(::write(child.go, "g", 1) == 1);
  std::vector<int> got;
  int value;
  while (::read(child.report, &value, sizeof(value)) == sizeof(value)) got.push_back(value);
  const int status = child.reap();
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(got.size() == actions.size());
  return got;
}

// run_in, each result checked against `expected` (0 or an errno).
void expect_in(const std::string& cgroup_dir, const std::vector<std::pair<action, int>>& expected) {
  std::vector<action> actions;
  for (const auto& e : expected) actions.push_back(e.first);
  const auto got = run_in(cgroup_dir, actions);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("in " << cgroup_dir << ": " << describe(expected[i].first) << " -> "
               << (got[i] == 0 ? "ok" : std::strerror(got[i])));
    CHECK(got[i] == expected[i].second);
  }
}

void attach(const std::string& dir, const std::vector<cg::device_rule>& rules) {
  auto attached = cg::attach_device_program(dir, rules);
  INFO((attached ? "" : attached.error().message()));
  REQUIRE(attached);
}

// Outside the scratch cgroups these nodes open: the v1 devices cgroup
// and this process's own cgroup v2 allow them.
void control(const std::vector<std::pair<std::string, int>>& nodes) {
  for (const auto& [path, flags] : nodes) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    INFO("control, outside the scratch cgroup: open " << path << ": "
                                                      << (fd < 0 ? std::strerror(errno) : "ok"));
    CHECK(fd >= 0);
    if (fd >= 0) ::close(fd);
  }
}

// The ids of the device programs attached to the cgroup directory itself.
std::vector<std::uint32_t> attached_program_ids(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::vector<std::uint32_t> ids(16);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = static_cast<std::uint32_t>(fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<std::uintptr_t>(ids.data());
  attr.query.prog_cnt = static_cast<std::uint32_t>(ids.size());
  const long r = ::syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr));
  const int e = errno;
  ::close(fd);
  INFO("BPF_PROG_QUERY " << dir << ": " << std::strerror(e));
  REQUIRE(r == 0);
  ids.resize(attr.query.prog_cnt);
  return ids;
}

const std::vector<cg::device_rule> null_zero_and_mknod = {
    {'c', 1, 3, "rwm"}, {'c', 1, 5, "rwm"}, {'c', -1, -1, "m"}, {'b', -1, -1, "m"}};

}  // namespace

TEST_CASE("a device program lets the child use only the devices it lists; the rest is EPERM") {
  const auto own = find_own_cgroup();
  require_device_programs();
  node_dir nodes;
  const std::string full = nodes.node("full", S_IFCHR, 1, 7);
  const std::string disk = nodes.block_node();
  control({{full, O_RDWR}, {disk, O_RDONLY}});
  std::string scratch_dir;
  {
    scratch_cgroup scratch(own);
    scratch_dir = scratch.dir;
    attach(scratch.dir, null_zero_and_mknod);
    const std::string made = (nodes.path / "made-in-child").string();
    expect_in(scratch.dir, {
                               {{action::open_read_write, "/dev/null"}, 0},
                               {{action::open_read_write, "/dev/zero"}, 0},
                               {{action::open_read_write, full}, EPERM},
                               {{action::open_read, full}, EPERM},
                               {{action::open_read, disk}, EPERM},
                               // mknod of any node is allowed; using it is not.
                               {{action::make_char, made, 1, 7}, 0},
                               {{action::make_block, made, 7, 0}, 0},
                           });
    // The program confines the cgroup, not this process.
    control({{full, O_RDWR}, {disk, O_RDONLY}});
  }
  CHECK_FALSE(fs::exists(scratch_dir));
}

TEST_CASE("without m in the allow list mknod is EPERM") {
  const auto own = find_own_cgroup();
  require_device_programs();
  node_dir nodes;
  scratch_cgroup scratch(own);
  attach(scratch.dir, {{'c', 1, 3, "rwm"}, {'c', 1, 5, "rw"}});
  const std::string made = (nodes.path / "made-in-child").string();
  expect_in(scratch.dir, {
                             {{action::make_char, made, 1, 3}, 0},  // null has m
                             {{action::make_char, made, 1, 5}, EPERM},
                             {{action::make_char, made, 1, 7}, EPERM},
                             {{action::make_block, made, 7, 0}, EPERM},
                             {{action::open_read_write, "/dev/zero"}, 0},
                         });
}

TEST_CASE("attaching again replaces our earlier program in that cgroup") {
  const auto own = find_own_cgroup();
  require_device_programs();
  node_dir nodes;
  const std::string full = nodes.node("full", S_IFCHR, 1, 7);
  scratch_cgroup scratch(own);

  attach(scratch.dir, {{'c', 1, 3, "rwm"}});
  expect_in(scratch.dir, {{{action::open_read_write, full}, EPERM}});
  // Were the first program still there, it would deny full whatever the
  // second allows.
  attach(scratch.dir, {{'c', 1, 3, "rwm"}, {'c', 1, 7, "rwm"}});
  expect_in(scratch.dir,
            {{{action::open_read_write, full}, 0}, {{action::open_read_write, "/dev/null"}, 0}});
  attach(scratch.dir, {{'c', 1, 3, "rwm"}});
  expect_in(scratch.dir, {{{action::open_read_write, full}, EPERM},
                          {{action::open_read_write, "/dev/null"}, 0}});

  // One loaded program attached twice to the same cgroup: still one.
  auto program = cg::compile_device_program({{'c', 1, 7, "rwm"}});
  REQUIRE(program);
  auto loaded = cg::load_device_program(*program);
  REQUIRE(loaded);
  REQUIRE(cg::attach_device_program(scratch.dir, *loaded));
  auto again = cg::attach_device_program(scratch.dir, *loaded);
  INFO((again ? "" : again.error().message()));
  REQUIRE(again);
  expect_in(scratch.dir, {{{action::open_read_write, full}, 0},
                          {{action::open_read_write, "/dev/null"}, EPERM}});
}

TEST_CASE("the same rules load once: two cgroups share the program, and each is confined by it") {
  const auto own = find_own_cgroup();
  require_device_programs();
  node_dir nodes;
  const std::string full = nodes.node("full", S_IFCHR, 1, 7);
  scratch_cgroup scratch(own);
  const std::string first = scratch.make("first");
  const std::string second = scratch.make("second");

  attach(first, null_zero_and_mknod);
  attach(second, null_zero_and_mknod);
  const auto first_ids = attached_program_ids(first);
  const auto second_ids = attached_program_ids(second);
  REQUIRE(first_ids.size() == 1);
  CHECK(second_ids == first_ids);
  expect_in(second, {{{action::open_read_write, "/dev/null"}, 0},
                     {{action::open_read_write, full}, EPERM}});

  // Other rules are another program, and the shared one stays on the first.
  attach(second, {{'c', 1, 7, "rwm"}});
  const auto changed = attached_program_ids(second);
  REQUIRE(changed.size() == 1);
  CHECK(changed != first_ids);
  CHECK(attached_program_ids(first) == first_ids);
  expect_in(second, {{{action::open_read_write, full}, 0},
                     {{action::open_read_write, "/dev/null"}, EPERM}});
  expect_in(first, {{{action::open_read_write, full}, EPERM}});

  // And back: the program loaded first is attached again.
  attach(second, null_zero_and_mknod);
  CHECK(attached_program_ids(second) == first_ids);
  expect_in(second, {{{action::open_read_write, full}, EPERM}});
}

TEST_CASE("a pod cgroup's program and its container cgroup's program must both allow") {
  // BPF_F_ALLOW_MULTI: the kernel runs the programs of the cgroup and of
  // its ancestors, and denies unless every one allows.
  const auto own = find_own_cgroup();
  require_device_programs();
  node_dir nodes;
  const std::string full = nodes.node("full", S_IFCHR, 1, 7);
  scratch_cgroup scratch(own);
  const std::string pod = scratch.make("pod");
  const std::string container = scratch.make("pod/container");

  // The container's own list is the narrower.
  attach(pod, {{'c', 1, 3, "rwm"}, {'c', 1, 7, "rwm"}});
  attach(container, {{'c', 1, 3, "rwm"}});
  expect_in(container, {{{action::open_read_write, full}, EPERM},
                        {{action::open_read_write, "/dev/null"}, 0}});

  // The pod's is: the container's program cannot widen it.
  attach(pod, {{'c', 1, 3, "rwm"}});
  attach(container, {{'c', 1, 3, "rwm"}, {'c', 1, 7, "rwm"}});
  expect_in(container, {{{action::open_read_write, full}, EPERM},
                        {{action::open_read_write, "/dev/null"}, 0}});

  // A pod program that allows everything leaves the container's in charge.
  attach(pod, {{'a', -1, -1, "rwm"}});
  expect_in(container, {{{action::open_read_write, full}, 0},
                        {{action::open_read_write, "/dev/zero"}, EPERM}});
}

TEST_CASE("limit_devices attaches the program where no v1 devices hierarchy is mounted") {
  const auto own = find_own_cgroup();
  require_device_programs();
  node_dir nodes;
  const std::string full = nodes.node("full", S_IFCHR, 1, 7);
  scratch_cgroup scratch(own);
  const std::string container = scratch.make("container");

  // This node as it would look with only its cgroup2 mount: pure v2.
  auto h = cg::hierarchy::detect_from(own.mountinfo_line);
  REQUIRE(h);
  REQUIRE(h->kind() == cg::layout::v2);
  const std::string base = own.path == "/" ? "" : own.path;
  const std::string path = base + container.substr(own.dir == "/" ? 0 : own.dir.size());
  REQUIRE(cg::hierarchy::dir_of(*h->unified(), path) == container);

  auto limited = h->limit_devices(path, null_zero_and_mknod);
  INFO((limited ? "" : limited.error().message()));
  REQUIRE(limited);
  CHECK(*limited);
  expect_in(container, {{{action::open_read_write, "/dev/null"}, 0},
                        {{action::open_read_write, full}, EPERM}});

  auto missing = h->limit_devices(path + "-missing", null_zero_and_mknod);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind() == error_kind::not_found);
  CHECK(missing.error().message().find(container + "-missing") != std::string::npos);
}

TEST_CASE("a program the verifier refuses is an error carrying its log") {
  const auto own = find_own_cgroup();
  (void)own;
  require_device_programs();
  // Returns without setting r0: the verifier says so.
  std::vector<bpf_insn> program(1);
  program[0].code = BPF_JMP | BPF_EXIT;
  auto loaded = cg::load_device_program(program);
  REQUIRE_FALSE(loaded);
  INFO(loaded.error().message());
  CHECK(loaded.error().message().find("verifier log") != std::string::npos);
  CHECK(loaded.error().message().find("R0") != std::string::npos);

  // Attaching to a directory that is not a cgroup names it.
  node_dir not_cgroup;
  auto allowed = cg::compile_device_program({});
  REQUIRE(allowed);
  auto good = cg::load_device_program(*allowed);
  REQUIRE(good);
  auto attached = cg::attach_device_program(not_cgroup.path.string(), *good);
  REQUIRE_FALSE(attached);
  CHECK(attached.error().message().find(not_cgroup.path.string()) != std::string::npos);
}
