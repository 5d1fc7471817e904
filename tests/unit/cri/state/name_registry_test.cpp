#include "cri/state/name_registry.hpp"

#include <catch2/catch.hpp>

#include "cri/state/name_keys.hpp"
#include "cri/state/runtime_state.hpp"
#include "fixtures.hpp"

using namespace ringcri;
using namespace ringcri::cri::state;
using namespace ringcri::cri::state::test;

TEST_CASE("name_registry reserves a name for one holder") {
  name_registry names("pod sandbox");
  REQUIRE(names.reserve("web_default_u1_0", "id-1"));
  CHECK(names.holder_of("web_default_u1_0") == "id-1");
  CHECK(names.size() == 1);

  SECTION("another holder is refused, and told who holds it") {
    auto r = names.reserve("web_default_u1_0", "id-2");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::already_exists);
    CHECK(r.error().message() == "pod sandbox name \"web_default_u1_0\" is reserved for \"id-1\"");
    CHECK(names.holder_of("web_default_u1_0") == "id-1");
  }
  SECTION("the same holder may reserve it again") {
    CHECK(names.reserve("web_default_u1_0", "id-1"));
    CHECK(names.size() == 1);
  }
  SECTION("a holder holds one name only") {
    auto r = names.reserve("other_default_u1_0", "id-1");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::already_exists);
    CHECK_THAT(r.error().message(),
               Catch::Contains("\"id-1\"") && Catch::Contains("\"web_default_u1_0\""));
  }
  SECTION("release lets another holder take it") {
    CHECK(names.release("web_default_u1_0"));
    CHECK_FALSE(names.release("web_default_u1_0"));
    CHECK_FALSE(names.holder_of("web_default_u1_0"));
    REQUIRE(names.reserve("web_default_u1_0", "id-2"));
    CHECK(names.holder_of("web_default_u1_0") == "id-2");
    // and id-1 is free to hold another name
    CHECK(names.reserve("other_default_u1_0", "id-1"));
  }
}

TEST_CASE("name_registry refuses empty names and holders") {
  name_registry names("container");
  auto a = names.reserve("", "id");
  REQUIRE_FALSE(a);
  CHECK(a.error().kind() == error_kind::invalid_argument);
  auto b = names.reserve("n", "");
  REQUIRE_FALSE(b);
  CHECK(b.error().kind() == error_kind::invalid_argument);
  CHECK(names.size() == 0);
}

TEST_CASE("name keys are built as containerd builds them") {
  runtime::v1::PodSandboxMetadata pod;
  pod.set_name("nginx");
  pod.set_namespace_("web");
  pod.set_uid("5e1f");
  pod.set_attempt(2);
  CHECK(pod_name_key(pod) == "nginx_web_5e1f_2");

  runtime::v1::ContainerMetadata c;
  c.set_name("sidecar");
  c.set_attempt(7);
  CHECK(container_name_key(c, pod) == "sidecar_nginx_web_5e1f_7");
}

TEST_CASE("runtime_state: a taken pod name is ALREADY_EXISTS naming the holder") {
  runtime_state st;
  auto first = make_pod("web", {}, 1, "default", "u1", 0);
  REQUIRE(st.add_pod(first));

  auto clash = make_pod("web", {}, 2, "default", "u1", 0);
  auto r = st.add_pod(clash);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::already_exists);
  CHECK(r.error().message() ==
        "pod sandbox name \"web_default_u1_0\" is reserved for \"" + first.id() + "\"");
  CHECK(st.pod_count() == 1);

  // Another attempt, uid or namespace is another name.
  CHECK(st.add_pod(make_pod("web", {}, 3, "default", "u1", 1)));
  CHECK(st.add_pod(make_pod("web", {}, 4, "default", "u2", 0)));
  CHECK(st.add_pod(make_pod("web", {}, 5, "other", "u1", 0)));
  CHECK(st.pod_count() == 4);
}

TEST_CASE("runtime_state: removing a pod frees its name for reuse") {
  runtime_state st;
  auto first = make_pod("web");
  REQUIRE(st.add_pod(first));
  auto again = make_pod("web");
  REQUIRE_FALSE(st.add_pod(again));
  REQUIRE(st.remove_pod(sandbox_id{first.id()}).value());
  REQUIRE(st.add_pod(again));
  CHECK(st.get_pod(sandbox_id{again.id()}));
}

TEST_CASE("runtime_state: a taken container name is ALREADY_EXISTS naming the holder") {
  runtime_state st;
  auto pod = make_pod("web", {}, 0, "ns", "u1");
  REQUIRE(st.add_pod(pod));
  auto c1 = make_container(pod, "app", {}, 0, 0);
  REQUIRE(st.add_container(c1));

  auto c2 = make_container(pod, "app", {}, 0, 0);
  auto r = st.add_container(c2);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::already_exists);
  CHECK(r.error().message() ==
        "container name \"app_web_ns_u1_0\" is reserved for \"" + c1.id() + "\"");

  // Next attempt is allowed while the old one lives (kubelet restarts this way).
  CHECK(st.add_container(make_container(pod, "app", {}, 0, 1)));

  // Removing the holder frees the name.
  REQUIRE(st.remove_container(container_id{c1.id()}));
  CHECK(st.add_container(c2));
  CHECK(st.container_count() == 2);
}

TEST_CASE("runtime_state: same container name in two pods is fine") {
  runtime_state st;
  auto p1 = make_pod("a");
  auto p2 = make_pod("b");
  REQUIRE(st.add_pod(p1));
  REQUIRE(st.add_pod(p2));
  CHECK(st.add_container(make_container(p1, "app")));
  CHECK(st.add_container(make_container(p2, "app")));
}
