// The raw `unified` files of a container's resources on this node's real
// cgroups: they are written into the cgroup's directory of the unified
// hierarchy, on a hybrid node (whose v2 hierarchy may hold hugetlb alone)
// as on pure v2, and a file that does not exist there is refused naming
// it. Its own binary: it exits 77 when there is no cgroup v2 hierarchy.

#include <catch2/catch.hpp>
#include <string>

#include "real_cgroups.hpp"

using namespace cgroups_test;

TEST_CASE("unified files reach the cgroup's directory of the v2 hierarchy") {
  const auto& h = node();
  const auto* unified = h.unified();
  if (unified == nullptr)
    skip_binary("no cgroup v2 hierarchy here (layout " + std::string(cg::to_string(h.kind())) +
                ")");
  test_cgroup t(h);
  const std::string path = t.top + "/raw";
  auto procs = h.create(path);
  INFO((procs ? "" : procs.error().message()));
  REQUIRE(procs);
  const std::string dir = cg::hierarchy::dir_of(*unified, path);

  // The core files every v2 cgroup has, whatever its controllers.
  cg::resources r;
  r.unified = {{"cgroup.max.descendants", "7"}, {"cgroup.max.depth", "3"}};
  auto applied = h.apply(path, r);
  INFO(message_of(applied));
  REQUIRE(applied);
  CHECK(trimmed(dir + "/cgroup.max.descendants") == "7");
  CHECK(trimmed(dir + "/cgroup.max.depth") == "3");

  // A live update changes them again.
  r.unified = {{"cgroup.max.descendants", "max"}};
  REQUIRE(h.apply(path, r));
  CHECK(trimmed(dir + "/cgroup.max.descendants") == "max");
  CHECK(trimmed(dir + "/cgroup.max.depth") == "3");

  // A controller file the cgroup does not have is refused, naming it.
  cg::resources missing;
  missing.unified = {{"nosuch.controller.max", "1"}};
  auto refused = h.apply(path, missing);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind() == ringcri::error_kind::invalid_argument);
  CHECK(refused.error().message().find("nosuch.controller.max") != std::string::npos);
  CHECK(refused.error().message().find(dir) != std::string::npos);

  REQUIRE(h.remove(t.top));
  CHECK_FALSE(t.exists_anywhere());
}
