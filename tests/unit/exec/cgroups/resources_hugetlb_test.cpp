// hugetlb on this node's real cgroups: a 2 MB limit reaches the hierarchy
// that has hugetlb (v1, or the unified one of a hybrid node). Its own
// binary: it exits 77 when no hierarchy has hugetlb or the kernel has no
// 2 MB huge pages.

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "real_cgroups.hpp"

using namespace cgroups_test;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t mib = 1 << 20;

}  // namespace

TEST_CASE("a 2MB hugetlb limit reaches the hierarchy that has hugetlb") {
  const auto* hugetlb = &mount_or_skip("hugetlb");
  const auto& h = node();
  if (!fs::exists("/sys/kernel/mm/hugepages/hugepages-2048kB"))
    skip_binary("no 2 MB huge pages here (/sys/kernel/mm/hugepages/hugepages-2048kB)");
  test_cgroup t(h);
  const std::string path = t.top + "/huge";
  REQUIRE(h.create(path));
  const std::string file = cg::hierarchy::dir_of(*hugetlb, path) +
                           (hugetlb->unified ? "/hugetlb.2MB.max" : "/hugetlb.2MB.limit_in_bytes");
  std::printf("hugetlb in the %s hierarchy at %s\n", hugetlb->unified ? "v2" : "v1",
              hugetlb->mount_point.c_str());
  cg::resources r;
  r.hugepage_limits = {{"2MB", 4 * mib}};
  auto applied = h.apply(path, r);
  INFO(message_of(applied));
  REQUIRE(applied);
  CHECK(trimmed(file) == std::to_string(4 * mib));
  auto back = h.read_resources(path);
  REQUIRE(back);
  CHECK(back->hugepage_limits == std::vector<cg::hugepage_limit>{{"2MB", 4 * mib}});
  REQUIRE(h.remove(t.top));
  CHECK_FALSE(t.exists_anywhere());
}
