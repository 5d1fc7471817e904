// Capabilities: Docker's defaults, add/drop with and without CAP_, ALL,
// unknown names, privileged.

#include "cri/spec/capabilities.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

using namespace ringcri::cri::spec;
using ringcri::error_kind;
using strings = std::vector<std::string>;

namespace {

runtime::v1::LinuxContainerSecurityContext ctx(const strings& add, const strings& drop) {
  runtime::v1::LinuxContainerSecurityContext sc;
  for (const auto& a : add) sc.mutable_capabilities()->add_add_capabilities(a);
  for (const auto& d : drop) sc.mutable_capabilities()->add_drop_capabilities(d);
  return sc;
}

bool has(const strings& set, const std::string& cap) {
  return std::find(set.begin(), set.end(), cap) != set.end();
}

}  // namespace

TEST_CASE("defaults: Docker's set in bounding, effective and permitted only", "[caps]") {
  auto c = container_capabilities(runtime::v1::LinuxContainerSecurityContext{});
  REQUIRE(c);
  const strings expected = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  CHECK(c->bounding == expected);
  CHECK(c->effective == expected);
  CHECK(c->permitted == expected);
  CHECK(c->inheritable.empty());
  CHECK(c->ambient.empty());
}

TEST_CASE("add and drop, with or without CAP_, any case", "[caps]") {
  auto c = container_capabilities(
      ctx({"NET_ADMIN", "CAP_SYS_TIME", "sys_ptrace"}, {"CAP_NET_RAW", "mknod"}));
  REQUIRE(c);
  CHECK(has(c->bounding, "CAP_NET_ADMIN"));
  CHECK(has(c->effective, "CAP_SYS_TIME"));
  CHECK(has(c->permitted, "CAP_SYS_PTRACE"));
  CHECK(!has(c->bounding, "CAP_NET_RAW"));
  CHECK(!has(c->bounding, "CAP_MKNOD"));
  CHECK(has(c->bounding, "CAP_CHOWN"));
}

TEST_CASE("adding a capability already there does not repeat it", "[caps]") {
  auto c = container_capabilities(ctx({"CHOWN"}, {}));
  REQUIRE(c);
  CHECK(std::count(c->bounding.begin(), c->bounding.end(), "CAP_CHOWN") == 1);
}

TEST_CASE("drop ALL then add one: that one alone", "[caps]") {
  auto c = container_capabilities(ctx({"NET_BIND_SERVICE"}, {"ALL"}));
  REQUIRE(c);
  CHECK(c->bounding == strings{"CAP_NET_BIND_SERVICE"});
}

TEST_CASE("add ALL then drop one: all but that one", "[caps]") {
  auto c = container_capabilities(ctx({"all"}, {"CHOWN"}));
  REQUIRE(c);
  CHECK(c->bounding.size() == all_capabilities().size() - 1);
  CHECK(!has(c->bounding, "CAP_CHOWN"));
  CHECK(has(c->bounding, "CAP_SYS_ADMIN"));
}

TEST_CASE("add ALL and drop ALL: none", "[caps]") {
  auto c = container_capabilities(ctx({"ALL"}, {"ALL"}));
  REQUIRE(c);
  CHECK(c->bounding.empty());
  CHECK(c->effective.empty());
}

TEST_CASE("an unknown capability is INVALID_ARGUMENT naming it", "[caps]") {
  auto a = container_capabilities(ctx({"CAP_FLY"}, {}));
  REQUIRE(!a);
  CHECK(a.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(a.error().message(), Catch::Contains("CAP_FLY"));
  auto d = container_capabilities(ctx({}, {"teleport"}));
  REQUIRE(!d);
  CHECK_THAT(d.error().message(), Catch::Contains("teleport"));
}

TEST_CASE("privileged: every capability the kernel knows", "[caps]") {
  auto sc = ctx({}, {"ALL"});
  sc.set_privileged(true);
  auto c = container_capabilities(sc);
  REQUIRE(c);
  CHECK(c->bounding == all_capabilities());
  CHECK(c->permitted == all_capabilities());
  CHECK(has(c->bounding, "CAP_SYS_ADMIN"));
  CHECK(all_capabilities().size() >= 38);  // every kernel since 4.x
}

TEST_CASE("capability_name normalises", "[caps]") {
  CHECK(*capability_name("chown") == "CAP_CHOWN");
  CHECK(*capability_name("Cap_Bpf") == "CAP_BPF");
  CHECK(!capability_name("CAP_"));
  CHECK(!capability_name("ALL"));
}
