// LinuxContainerResources -> cgroup limits: values passed through, unset
// ones left unset, values no kernel takes refused naming the field, and
// an update merged over what the container has.

#include <catch2/catch.hpp>

#include "cri/spec/resources.hpp"

namespace spec = ringcri::cri::spec;
namespace v1 = ::runtime::v1;
using ringcri::error_kind;

TEST_CASE("every field reaches the cgroup limits; zero ones stay unset") {
  v1::LinuxContainerResources r;
  r.set_cpu_period(100000);
  r.set_cpu_quota(50000);
  r.set_cpu_shares(512);
  r.set_memory_limit_in_bytes(64 << 20);
  r.set_memory_swap_limit_in_bytes(128 << 20);
  r.set_cpuset_cpus("0-1");
  r.set_cpuset_mems("0");
  auto* h = r.add_hugepage_limits();
  h->set_page_size("2MB");
  h->set_limit(4 << 20);
  (*r.mutable_unified())["memory.high"] = "50000000";
  auto out = spec::container_resources(r, 1024);
  REQUIRE(out);
  CHECK(out->cpu_period == 100000);
  CHECK(out->cpu_quota == 50000);
  CHECK(out->cpu_shares == 512);
  CHECK(out->memory_limit == 64 << 20);
  CHECK(out->memory_swap_limit == 128 << 20);
  CHECK(out->cpuset_cpus == "0-1");
  CHECK(out->cpuset_mems == "0");
  CHECK(out->pids_limit == 1024);
  REQUIRE(out->hugepage_limits.size() == 1);
  CHECK(out->hugepage_limits[0].page_size == "2MB");
  CHECK(out->hugepage_limits[0].limit == 4u << 20);
  CHECK(out->unified.at("memory.high") == "50000000");

  auto empty = spec::container_resources(v1::LinuxContainerResources{}, 0);
  REQUIRE(empty);
  CHECK(empty->cpu_shares == 0);
  CHECK(empty->memory_limit == 0);
  CHECK(empty->pids_limit == 0);
  CHECK(empty->cpuset_cpus.empty());
}

TEST_CASE("values no kernel takes are refused naming the field") {
  auto refused = [](auto edit, const std::string& field) {
    v1::LinuxContainerResources r;
    edit(r);
    auto out = spec::container_resources(r, 0);
    REQUIRE_FALSE(out);
    CHECK(out.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(out.error().message(), Catch::Contains(field));
  };
  refused([](auto& r) { r.set_memory_limit_in_bytes(-1); }, "memory_limit_in_bytes");
  refused([](auto& r) { r.set_cpu_shares(-2); }, "cpu_shares");
  refused([](auto& r) { r.set_cpu_period(500); }, "cpu_period");
  refused([](auto& r) { r.set_cpu_period(2000000); }, "cpu_period");
  refused([](auto& r) { r.set_cpu_quota(-7); }, "cpu_quota");
  refused([](auto& r) { r.set_cpu_quota(10); }, "cpu_quota");
  refused([](auto& r) { r.set_memory_swap_limit_in_bytes(-3); }, "memory_swap_limit_in_bytes");
  refused(
      [](auto& r) {
        r.set_memory_limit_in_bytes(64 << 20);
        r.set_memory_swap_limit_in_bytes(32 << 20);
      },
      "memory_swap_limit_in_bytes");
  refused([](auto& r) { r.add_hugepage_limits()->set_page_size("huge"); }, "\"huge\"");

  v1::LinuxContainerResources unlimited;
  unlimited.set_cpu_quota(-1);
  unlimited.set_memory_swap_limit_in_bytes(-1);
  auto out = spec::container_resources(unlimited, 0);
  REQUIRE(out);
  CHECK(out->cpu_quota == -1);
  CHECK(out->memory_swap_limit == -1);
}

TEST_CASE("an update replaces the fields it sets and keeps the rest") {
  v1::LinuxContainerResources current;
  current.set_cpu_shares(512);
  current.set_memory_limit_in_bytes(64 << 20);
  current.set_cpuset_cpus("0");
  (*current.mutable_unified())["memory.high"] = "1";
  v1::LinuxContainerResources update;
  update.set_memory_limit_in_bytes(128 << 20);
  update.set_cpu_quota(20000);
  (*update.mutable_unified())["pids.max"] = "10";
  auto merged = spec::merge_resources(current, update);
  CHECK(merged.cpu_shares() == 512);
  CHECK(merged.memory_limit_in_bytes() == 128 << 20);
  CHECK(merged.cpu_quota() == 20000);
  CHECK(merged.cpuset_cpus() == "0");
  CHECK(merged.unified().at("memory.high") == "1");
  CHECK(merged.unified().at("pids.max") == "10");
}
