// memory+swap on this node's real cgroups: set, lowered and raised in the
// order the kernel takes, and read back. Its own binary: it exits 77 when
// no hierarchy has the memory controller or swap accounting is off.

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "real_cgroups.hpp"

using namespace cgroups_test;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t mib = 1 << 20;

}  // namespace

TEST_CASE("memory+swap goes up and down in the order the kernel takes") {
  const auto* m = &mount_or_skip("memory");
  const auto& h = node();
  const std::string swap_name = m->unified ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
  {
    // The file exists only in a cgroup below the root, and only with swap
    // accounting on: look in one made for that, removed again.
    test_cgroup probe(h);
    REQUIRE(h.create(probe.top + "/probe"));
    const bool accounted =
        fs::exists(cg::hierarchy::dir_of(*m, probe.top + "/probe") + "/" + swap_name);
    REQUIRE(h.remove(probe.top));
    if (!accounted) skip_binary("no " + swap_name + " in a new cgroup: swap accounting is off");
  }
  test_cgroup t(h);
  const std::string path = t.top + "/swap";
  REQUIRE(h.create(path));
  const std::string dir = cg::hierarchy::dir_of(*m, path);
  const std::string swap_file = dir + "/" + swap_name;
  // (memory, memory+swap) pairs in MiB: set, lowered below the old
  // memory limit, raised above the old memory+swap limit.
  for (auto [memory, memsw] : {std::pair{64, 96}, std::pair{32, 48}, std::pair{256, 512},
                               std::pair{300, 300}, std::pair{16, 32}}) {
    INFO(memory << " MiB, memory+swap " << memsw << " MiB");
    cg::resources r;
    r.memory_limit = memory * mib;
    r.memory_swap_limit = memsw * mib;
    auto applied = h.apply(path, r);
    INFO(message_of(applied));
    REQUIRE(applied);
    CHECK(trimmed(dir + (m->unified ? "/memory.max" : "/memory.limit_in_bytes")) ==
          std::to_string(memory * mib));
    CHECK(trimmed(swap_file) == std::to_string((m->unified ? memsw - memory : memsw) * mib));
    auto back = h.read_resources(path);
    REQUIRE(back);
    CHECK(back->memory_swap_limit == memsw * mib);
  }
  if (!m->unified) {
    // v1 refuses memory alone above the memory+swap limit set before; the
    // error says so.
    cg::resources memory_alone;
    memory_alone.memory_limit = 64 * mib;
    auto refused = h.apply(path, memory_alone);
    REQUIRE_FALSE(refused);
    INFO(refused.error().message());
    CHECK(refused.error().sys_errno() == EINVAL);
    CHECK(refused.error().message().find("memory.limit_in_bytes\" = \"67108864\"") !=
          std::string::npos);
    CHECK(refused.error().message().find("memory+swap limit is 33554432") != std::string::npos);
  }
  cg::resources unlimited;
  unlimited.memory_limit = 64 * mib;
  unlimited.memory_swap_limit = -1;
  REQUIRE(h.apply(path, unlimited));
  auto back = h.read_resources(path);
  REQUIRE(back);
  CHECK(back->memory_limit == 64 * mib);
  CHECK(back->memory_swap_limit == 0);  // no limit
  REQUIRE(h.remove(t.top));
  CHECK_FALSE(t.exists_anywhere());
}
