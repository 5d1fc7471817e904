// create/remove/pids on "hierarchies" that are plain directories named by
// made-up mountinfo: the walking, the undo of a failed create and the
// deepest-first removal, without root or real cgroups.

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "exec/cgroups/hierarchy.hpp"

namespace cg = ringcri::exec::cgroups;
namespace fs = std::filesystem;

namespace {

struct fake_tree {
  fs::path root;
  fake_tree() {
    char tmpl[] = "/tmp/ringcri-cgroups-test-XXXXXX";
    root = ::mkdtemp(tmpl);
  }
  ~fake_tree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  // mountinfo naming one v1 hierarchy per controller, each a plain dir.
  std::string mountinfo(std::initializer_list<const char*> controllers) {
    std::string text;
    int minor = 100;
    for (const char* c : controllers) {
      fs::create_directories(root / c);
      text += "1 1 0:" + std::to_string(minor++) + " / " + (root / c).string() +
              " rw - cgroup cgroup rw," + c + "\n";
    }
    return text;
  }
};

}  // namespace

TEST_CASE("create makes the path in every hierarchy and remove takes it away") {
  fake_tree t;
  auto h = cg::hierarchy::detect_from(t.mountinfo({"memory", "pids"}));
  REQUIRE(h);
  auto procs = h->create("/ringcri/pod1/c1", true);
  INFO((procs ? "" : procs.error().message()));
  REQUIRE(procs);
  CHECK(*procs ==
        std::vector<std::string>{(t.root / "memory/ringcri/pod1/c1/cgroup.procs").string(),
                                 (t.root / "pids/ringcri/pod1/c1/cgroup.procs").string()});
  CHECK(fs::is_directory(t.root / "memory/ringcri/pod1/c1"));
  CHECK(fs::is_directory(t.root / "pids/ringcri/pod1/c1"));
  CHECK(*procs == h->procs_files("/ringcri/pod1/c1"));

  // Creating it again is fine.
  CHECK(h->create("/ringcri/pod1/c1", true));

  // Removing the pod removes the container below it first, not the parent.
  REQUIRE(h->remove("/ringcri/pod1"));
  CHECK_FALSE(fs::exists(t.root / "memory/ringcri/pod1"));
  CHECK_FALSE(fs::exists(t.root / "pids/ringcri/pod1"));
  CHECK(fs::is_directory(t.root / "memory/ringcri"));
  // Gone already: fine.
  CHECK(h->remove("/ringcri/pod1"));
}

TEST_CASE("a create that fails half-way removes what it made") {
  fake_tree t;
  // The plain "cpuset" dir has no cpuset.cpus to inherit: create fails
  // there, after making the memory dirs.
  auto h = cg::hierarchy::detect_from(t.mountinfo({"memory", "cpuset"}));
  REQUIRE(h);
  fs::create_directories(t.root / "memory/existing");
  auto procs = h->create("/existing/pod1/c1", true);
  REQUIRE_FALSE(procs);
  INFO(procs.error().message());
  CHECK(procs.error().message().find((t.root / "cpuset").string()) != std::string::npos);
  CHECK_FALSE(fs::exists(t.root / "memory/existing/pod1"));
  CHECK(fs::is_directory(t.root / "memory/existing"));  // not its own: kept
  CHECK_FALSE(fs::exists(t.root / "cpuset/existing"));
}

TEST_CASE("create refuses invalid paths") {
  fake_tree t;
  auto h = cg::hierarchy::detect_from(t.mountinfo({"memory"}));
  REQUIRE(h);
  for (const char* bad : {"relative/x", "/a/../../etc", "/a//b", ""}) {
    INFO(bad);
    auto procs = h->create(bad, true);
    REQUIRE_FALSE(procs);
    CHECK(procs.error().kind() == ringcri::error_kind::invalid_argument);
  }
  CHECK_FALSE(h->remove("/"));
  CHECK(fs::is_empty(t.root / "memory"));
}

TEST_CASE("pids lists each process once over all hierarchies") {
  fake_tree t;
  auto h = cg::hierarchy::detect_from(t.mountinfo({"memory", "pids"}));
  REQUIRE(h);
  fs::create_directories(t.root / "memory/x");
  fs::create_directories(t.root / "pids/x");
  std::ofstream(t.root / "memory/x/cgroup.procs") << "300\n12\n";
  std::ofstream(t.root / "pids/x/cgroup.procs") << "12\n45\n";
  auto pids = h->pids("/x");
  REQUIRE(pids);
  CHECK(*pids == std::vector<pid_t>{12, 45, 300});
  auto none = h->pids("/missing");
  REQUIRE(none);
  CHECK(none->empty());
}
