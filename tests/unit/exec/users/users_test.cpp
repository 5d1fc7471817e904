// resolve_user against an image's /etc/passwd and /etc/group in layer
// dirs: containerd's rules for image User, CRI run_as_* and groups.

#include "exec/users/users.hpp"

#include <catch2/catch.hpp>

#include "unit/exec/users/layer_dirs.hpp"

using ringcri::error_kind;
using ringcri::exec::resolve_user;
using ringcri::exec::supplemental_groups_policy;
using ringcri::test::layer_dirs;
using gids = std::vector<std::uint32_t>;

namespace {

// passwd in the lower layer, group in the upper one: both are read through
// the layers.
struct image {
  layer_dirs l{2};
  image() {
    l.file(1, "/etc/passwd",
           "root:x:0:0:root:/root:/bin/sh\n"
           "daemon:x:1:1::/:/sbin/nologin\n"
           "# a comment\n"
           "\n"
           "app:x:1000:1001:App:/home/app:/bin/sh\n"
           "other:x:2000:2000::/:/bin/sh\n"
           "evil:x:abc:0::/:/bin/sh\n");
    l.file(0, "/etc/group",
           "root:x:0:\n"
           "wheel:x:10:root,app\n"
           "audio:x:29: app \n"
           "video:x:44:other\n"
           "app:x:1500:app\n"
           "appgroup:x:1001:\n");
  }
};

}  // namespace

TEST_CASE("no user anywhere: root, with root's groups", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "", {}, {}, {}, {});
  REQUIRE(u);
  CHECK(u->uid == 0);
  CHECK(u->gid == 0);
  CHECK(u->additional_gids == gids{0, 10});
}

TEST_CASE("an image user name gives uid and gid from passwd and its member groups", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "app", {}, {}, {}, {});
  REQUIRE(u);
  CHECK(u->uid == 1000);
  CHECK(u->gid == 1001);
  // wheel and audio list app; the group named "app" is its own name's and
  // is left out, as containerd does; the primary gid is kept in the set.
  CHECK(u->additional_gids == gids{10, 29, 1001});
}

TEST_CASE("an image uid listed in passwd takes its gid from there", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "1000", {}, {}, {}, {});
  REQUIRE(u);
  CHECK(u->uid == 1000);
  CHECK(u->gid == 1001);
  CHECK(u->additional_gids == gids{10, 29, 1001});
}

TEST_CASE("a uid not in passwd is fine and gets gid 0", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "4242", {}, {}, {}, {});
  REQUIRE(u);
  CHECK(u->uid == 4242);
  CHECK(u->gid == 0);
  CHECK(u->additional_gids == gids{0});
}

TEST_CASE("a user name not in passwd is an error naming it and the file", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "nobody", {}, {}, {}, {});
  REQUIRE(!u);
  CHECK(u.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(u.error().message(), Catch::Contains("\"nobody\"") && Catch::Contains("/etc/passwd"));
}

TEST_CASE("a garbled passwd line is skipped, never read as uid 0", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "evil", {}, {}, {}, {});
  REQUIRE(!u);
  CHECK_THAT(u.error().message(), Catch::Contains("\"evil\""));
}

TEST_CASE("name:group looks the group up in /etc/group", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "app:audio", {}, {}, {}, {});
  REQUIRE(u);
  CHECK(u->uid == 1000);
  CHECK(u->gid == 29);
  CHECK(u->additional_gids == gids{10, 29});
}

TEST_CASE("an unknown group is an error naming it and /etc/group", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "app:nogroup", {}, {}, {}, {});
  REQUIRE(!u);
  CHECK(u.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(u.error().message(), Catch::Contains("\"nogroup\"") && Catch::Contains("/etc/group"));
}

TEST_CASE("uid:gid is taken as is", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "1000:44", {}, {}, {}, {});
  REQUIRE(u);
  CHECK(u->uid == 1000);
  CHECK(u->gid == 44);
  CHECK(u->additional_gids == gids{10, 29, 44});
  auto v = resolve_user(i.l.layers(), "7:8", {}, {}, {}, {});
  REQUIRE(v);
  CHECK(v->uid == 7);
  CHECK(v->gid == 8);
  CHECK(v->additional_gids == gids{8});
}

TEST_CASE("uid:name and name:gid mix both rules", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "4242:video", {}, {}, {}, {});
  REQUIRE(u);
  CHECK(u->uid == 4242);
  CHECK(u->gid == 44);
  auto v = resolve_user(i.l.layers(), "other:7", {}, {}, {}, {});
  REQUIRE(v);
  CHECK(v->uid == 2000);
  CHECK(v->gid == 7);
}

TEST_CASE("more than one colon is an invalid user", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "a:b:c", {}, {}, {}, {});
  REQUIRE(!u);
  CHECK(u.error().kind() == error_kind::invalid_argument);
}

TEST_CASE("run_as_user replaces the image user, group part too", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "app:audio", 2000u, {}, {}, {});
  REQUIRE(u);
  CHECK(u->uid == 2000);
  CHECK(u->gid == 2000);  // from passwd, not the image's "audio"
  CHECK(u->additional_gids == gids{44, 2000});
}

TEST_CASE("run_as_username replaces the image user", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "other:video", {}, std::string("app"), {}, {});
  REQUIRE(u);
  CHECK(u->uid == 1000);
  CHECK(u->gid == 1001);
  CHECK(u->additional_gids == gids{10, 29, 1001});
}

TEST_CASE("run_as_username wins over run_as_user", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "", 2000u, std::string("app"), {}, {});
  REQUIRE(u);
  CHECK(u->uid == 1000);
}

TEST_CASE("run_as_group sets the gid of the CRI user", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "app:audio", 1000u, {}, 77u, {});
  REQUIRE(u);
  CHECK(u->uid == 1000);
  CHECK(u->gid == 77);
  CHECK(u->additional_gids == gids{10, 29, 77});
}

TEST_CASE("run_as_group without a CRI user is refused", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "app", {}, {}, 77u, {});
  REQUIRE(!u);
  CHECK(u.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(u.error().message(), Catch::Contains("77"));
}

TEST_CASE("an unknown run_as_username names the user", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "", {}, std::string("ghost"), {}, {});
  REQUIRE(!u);
  CHECK_THAT(u.error().message(), Catch::Contains("\"ghost\"") && Catch::Contains("/etc/passwd"));
}

TEST_CASE("supplemental groups are merged, deduplicated and sorted", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "app", {}, {}, {}, {500, 10, 5, 500});
  REQUIRE(u);
  CHECK(u->additional_gids == gids{5, 10, 29, 500, 1001});
}

TEST_CASE("policy strict leaves out the /etc/group memberships", "[users]") {
  image i;
  auto u = resolve_user(i.l.layers(), "app", {}, {}, {}, {5}, supplemental_groups_policy::strict);
  REQUIRE(u);
  CHECK(u->gid == 1001);
  CHECK(u->additional_gids == gids{5, 1001});
}

TEST_CASE("an image without /etc/passwd runs uids but not names", "[users]") {
  layer_dirs l(1);
  l.dir(0, "/bin");
  auto by_uid = resolve_user(l.layers(), "1234", {}, {}, {}, {});
  REQUIRE(by_uid);
  CHECK(by_uid->uid == 1234);
  CHECK(by_uid->gid == 0);
  auto root = resolve_user(l.layers(), "", {}, {}, {}, {});
  REQUIRE(root);
  CHECK(root->uid == 0);
  CHECK(root->additional_gids == gids{0});
  auto by_name = resolve_user(l.layers(), "app", {}, {}, {}, {});
  REQUIRE(!by_name);
  CHECK_THAT(by_name.error().message(),
             Catch::Contains("\"app\"") && Catch::Contains("/etc/passwd"));
}

TEST_CASE("a passwd reached through a symlink is used", "[users]") {
  layer_dirs l(1);
  l.symlink(0, "/etc/passwd", "../usr/lib/passwd");
  l.file(0, "/usr/lib/passwd", "svc:x:300:301::/:/bin/sh\n");
  auto u = resolve_user(l.layers(), "svc", {}, {}, {}, {});
  REQUIRE(u);
  CHECK(u->uid == 300);
  CHECK(u->gid == 301);
}
