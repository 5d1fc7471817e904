// AppArmor requests: no profile, runtime/default and unconfined pass; a
// localhost profile is refused naming it, whichever field asks for it.

#include "cri/spec/apparmor.hpp"

#include <catch2/catch.hpp>

using namespace ringcri;
using namespace ringcri::cri::spec;
namespace v1 = ::runtime::v1;

TEST_CASE("no profile, runtime/default and unconfined are accepted") {
  CHECK(check_apparmor(nullptr, ""));
  CHECK(check_apparmor(nullptr, "runtime/default"));
  CHECK(check_apparmor(nullptr, "unconfined"));
  v1::SecurityProfile p;
  p.set_profile_type(v1::SecurityProfile::RuntimeDefault);
  CHECK(check_apparmor(&p, ""));
  p.set_profile_type(v1::SecurityProfile::Unconfined);
  CHECK(check_apparmor(&p, ""));
}

TEST_CASE("a localhost profile is INVALID_ARGUMENT naming it, in either field") {
  v1::SecurityProfile p;
  p.set_profile_type(v1::SecurityProfile::Localhost);
  p.set_localhost_ref("k8s-apparmor-example");
  auto by_field = check_apparmor(&p, "");
  REQUIRE_FALSE(by_field);
  CHECK(by_field.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(by_field.error().message(), Catch::Contains("localhost/k8s-apparmor-example"));

  auto by_name = check_apparmor(nullptr, "localhost/other-profile");
  REQUIRE_FALSE(by_name);
  CHECK(by_name.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(by_name.error().message(), Catch::Contains("localhost/other-profile"));
  if (!node_has_apparmor())
    CHECK_THAT(by_name.error().message(), Catch::Contains("not enabled on this node"));

  // The SecurityProfile field wins over the old string, as in containerd.
  p.set_profile_type(v1::SecurityProfile::Unconfined);
  CHECK(check_apparmor(&p, "localhost/other-profile"));
}

TEST_CASE("an unknown profile name is INVALID_ARGUMENT") {
  auto r = check_apparmor(nullptr, "docker-default");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(r.error().message(), Catch::Contains("docker-default"));
}
