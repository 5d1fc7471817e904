// v2 controllers are passed down to a new cgroup on this node's real
// unified hierarchy: each level below the root has what the root has.
// Its own binary: it exits 77 without a cgroup v2 hierarchy that holds a
// controller (pure v1, or a hybrid node whose v2 hierarchy is empty).

#include <catch2/catch.hpp>
#include <string>

#include "real_cgroups.hpp"

using namespace cgroups_test;

TEST_CASE("v2 controllers are passed down to a new cgroup") {
  const auto& h = node();
  const auto* unified = h.unified();
  if (unified == nullptr) skip_binary("no cgroup v2 hierarchy here");
  const std::string root = cg::hierarchy::dir_of(*unified, "/");
  const std::string available = read_file(root + "/cgroup.controllers");
  if (available.find_first_not_of(" \n") == std::string::npos)
    skip_binary("the cgroup v2 hierarchy at " + root + " has no controllers");
  {
    test_cgroup t(h);
    const std::string path = t.top + "/pod2/c2";
    auto procs = h.create(path, true);
    INFO((procs ? "" : procs.error().message()));
    REQUIRE(procs);
    // Each level below the root has what the root has; the new cgroup
    // (a leaf for processes) enables nothing itself.
    CHECK(read_file(cg::hierarchy::dir_of(*unified, t.top) + "/cgroup.controllers") == available);
    CHECK(read_file(cg::hierarchy::dir_of(*unified, t.top + "/pod2") + "/cgroup.subtree_control") ==
          available);
    CHECK(read_file(cg::hierarchy::dir_of(*unified, path) + "/cgroup.controllers") == available);
    CHECK(read_file(cg::hierarchy::dir_of(*unified, path) + "/cgroup.subtree_control")
              .find_first_not_of(" \n") == std::string::npos);
    REQUIRE(h.remove(t.top));
    CHECK_FALSE(t.exists_anywhere());
  }
}
