// cgroup v2's own files for memory, cpu and pids, and a raw `unified` file
// of the memory controller, on this node's real cgroups. Its own binary:
// it exits 77 unless memory, cpu and pids are all in a v2 hierarchy (pure
// v2).

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "real_cgroups.hpp"

using namespace cgroups_test;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t mib = 1 << 20;

}  // namespace

TEST_CASE("v2 limits on real files") {
  const auto& h = node();
  const auto* memory = h.mount_of("memory");
  const auto* cpu = h.mount_of("cpu");
  const auto* pids = h.mount_of("pids");
  if (!(memory && cpu && pids && memory->unified && cpu->unified && pids->unified))
    skip_binary("memory, cpu and pids are not all in a cgroup v2 hierarchy here (layout " +
                std::string(cg::to_string(h.kind())) + ")");
  test_cgroup t(h);
  const std::string path = t.top + "/v2";
  REQUIRE(h.create(path));
  const std::string dir = cg::hierarchy::dir_of(*memory, path);
  cg::resources r;
  r.memory_limit = 64 * mib;
  r.cpu_quota = 20000;
  r.cpu_period = 100000;
  r.cpu_shares = 1024;
  r.pids_limit = 42;
  r.unified = {{"memory.high", std::to_string(48 * mib)}};
  auto applied = h.apply(path, r);
  INFO(message_of(applied));
  REQUIRE(applied);
  CHECK(trimmed(dir + "/memory.max") == std::to_string(64 * mib));
  CHECK(trimmed(dir + "/memory.high") == std::to_string(48 * mib));
  CHECK(trimmed(dir + "/cpu.max") == "20000 100000");
  CHECK(trimmed(dir + "/cpu.weight") == "39");
  CHECK(trimmed(dir + "/pids.max") == "42");

  cg::resources unlimited;
  unlimited.memory_limit = -1;
  unlimited.cpu_quota = -1;
  unlimited.pids_limit = -1;
  REQUIRE(h.apply(path, unlimited));
  CHECK(trimmed(dir + "/memory.max") == "max");
  CHECK(trimmed(dir + "/cpu.max") == "max 100000");
  CHECK(trimmed(dir + "/pids.max") == "max");
  REQUIRE(h.remove(t.top));
  CHECK_FALSE(t.exists_anywhere());
}
