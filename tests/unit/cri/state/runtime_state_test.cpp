#include "cri/state/runtime_state.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

#include "fixtures.hpp"

using namespace ringcri;
using namespace ringcri::cri::state;
using namespace ringcri::cri::state::test;

TEST_CASE("add_pod then get, resolve, count") {
  runtime_state st;
  auto pod = make_pod("web", {{"app", "web"}}, 123);
  pod.add_ips("10.0.0.7");
  REQUIRE(st.add_pod(pod));
  CHECK(st.pod_count() == 1);

  sandbox_id id{pod.id()};
  auto got = st.get_pod(id);
  REQUIRE(got);
  CHECK(got->id() == pod.id());
  CHECK(got->created_at() == 123);
  CHECK(got->config().metadata().name() == "web");
  CHECK(got->ips(0) == "10.0.0.7");

  CHECK(st.resolve_pod(pod.id().substr(0, 6)).value() == id);
  CHECK(st.resolve_pod(pod.id()).value() == id);
  CHECK_FALSE(st.get_pod(sandbox_id{new_id()}));
}

TEST_CASE("add_pod validates the record") {
  runtime_state st;
  SECTION("missing metadata") {
    auto pod = make_pod("web");
    pod.mutable_config()->clear_metadata();
    auto r = st.add_pod(pod);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK(r.error().message() == "config.metadata is required");
  }
  SECTION("missing config altogether") {
    auto pod = make_pod("web");
    pod.clear_config();
    auto r = st.add_pod(pod);
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "config.metadata is required");
  }
  SECTION("empty name") {
    auto r = st.add_pod(make_pod(""));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK(r.error().message() == "config.metadata.name is required");
  }
  SECTION("bad id") {
    auto r = st.add_pod(with_id(make_pod("web"), "abc"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK(r.error().message() == "pod sandbox id \"abc\" is not 64 lowercase hex digits");
  }
  SECTION("unknown state value") {
    auto pod = make_pod("web");
    pod.set_state(static_cast<runtime::v1::PodSandboxState>(8));
    auto r = st.add_pod(pod);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(r.error().message(), Catch::Contains(pod.id()) && Catch::Contains("8"));
  }
  CHECK(st.pod_count() == 0);
}

TEST_CASE("add_pod refuses an id that exists") {
  runtime_state st;
  auto pod = make_pod("web");
  REQUIRE(st.add_pod(pod));
  auto twin = with_id(make_pod("other"), pod.id());
  auto r = st.add_pod(twin);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::already_exists);
  CHECK(r.error().message() == "pod sandbox \"" + pod.id() + "\" already exists");
  // The refused pod's name was not left reserved.
  CHECK(st.add_pod(make_pod("other")));
}

TEST_CASE("resolve_pod: unknown, ambiguous, empty") {
  runtime_state st;
  auto a = with_id(make_pod("a"), "ab" + std::string(62, '1'));
  auto b = with_id(make_pod("b"), "ab" + std::string(62, '2'));
  REQUIRE(st.add_pod(a));
  REQUIRE(st.add_pod(b));

  auto unknown = st.resolve_pod("ffff");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().kind() == error_kind::not_found);
  CHECK(unknown.error().message() == "pod sandbox \"ffff\" not found");

  auto ambiguous = st.resolve_pod("ab");
  REQUIRE_FALSE(ambiguous);
  CHECK(ambiguous.error().kind() == error_kind::invalid_argument);
  CHECK(ambiguous.error().message() ==
        "pod sandbox id prefix \"ab\" is ambiguous: it matches 2 ids");

  auto empty = st.resolve_pod("");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().kind() == error_kind::invalid_argument);

  CHECK(st.resolve_pod("ab1").value() == sandbox_id{a.id()});
}

TEST_CASE("remove_pod: false when unknown, refused while containers exist") {
  runtime_state st;
  CHECK(st.remove_pod(sandbox_id{new_id()}).value() == false);

  auto pod = make_pod("web");
  REQUIRE(st.add_pod(pod));
  sandbox_id pid{pod.id()};
  auto c1 = make_container(pod, "a");
  auto c2 = make_container(pod, "b");
  REQUIRE(st.add_container(c1));
  REQUIRE(st.add_container(c2));

  auto r = st.remove_pod(pid);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::failed_precondition);
  CHECK(r.error().message() ==
        "pod sandbox \"" + pod.id() + "\" still has 2 containers; remove them first");
  CHECK(st.get_pod(pid));

  REQUIRE(st.remove_container(container_id{c1.id()}));
  auto r1 = st.remove_pod(pid);
  REQUIRE_FALSE(r1);
  CHECK_THAT(r1.error().message(), Catch::Contains("still has 1 container;"));

  REQUIRE(st.remove_container(container_id{c2.id()}));
  CHECK(st.remove_pod(pid).value() == true);
  CHECK_FALSE(st.get_pod(pid));
  CHECK(st.pod_count() == 0);
  CHECK_FALSE(st.resolve_pod(pod.id()));
  CHECK(st.remove_pod(pid).value() == false);
}

TEST_CASE("add_container checks its pod") {
  runtime_state st;
  SECTION("missing pod is NOT_FOUND naming the pod id") {
    auto ghost = make_pod("ghost");
    auto r = st.add_container(make_container(ghost, "app"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::not_found);
    CHECK(r.error().message() == "pod sandbox \"" + ghost.id() + "\" not found");
  }
  SECTION("a pod id prefix is not accepted: the handler resolves first") {
    auto pod = make_pod("web");
    REQUIRE(st.add_pod(pod));
    auto c = make_container(pod, "app");
    c.set_pod_sandbox_id(pod.id().substr(0, 8));
    auto r = st.add_container(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::not_found);
  }
  SECTION("NOTREADY pod is FAILED_PRECONDITION") {
    auto pod = make_pod("web");
    REQUIRE(st.add_pod(pod));
    REQUIRE(st.update_pod(sandbox_id{pod.id()}, runtime::v1::SANDBOX_NOTREADY));
    auto r = st.add_container(make_container(pod, "app"));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::failed_precondition);
    CHECK(r.error().message() ==
          "pod sandbox \"" + pod.id() +
              "\" is in SANDBOX_NOTREADY state, cannot add container \"app\"");
    CHECK(st.containers_of(sandbox_id{pod.id()}).empty());
  }
  CHECK(st.container_count() == 0);
}

TEST_CASE("add_container validates the record") {
  runtime_state st;
  auto pod = make_pod("web");
  REQUIRE(st.add_pod(pod));
  SECTION("missing metadata") {
    auto c = make_container(pod, "app");
    c.mutable_config()->clear_metadata();
    auto r = st.add_container(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK(r.error().message() == "config.metadata is required");
  }
  SECTION("empty name") {
    auto r = st.add_container(make_container(pod, ""));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK(r.error().message() == "config.metadata.name is required");
  }
  SECTION("bad id") {
    auto r = st.add_container(with_id(make_container(pod, "app"), std::string(64, 'X')));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(r.error().message(), Catch::Contains("container id \"XXXX"));
  }
  SECTION("no pod id") {
    auto c = make_container(pod, "app");
    c.clear_pod_sandbox_id();
    auto r = st.add_container(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(r.error().message(), Catch::Contains("pod_sandbox_id is required"));
  }
  SECTION("id taken") {
    auto c = make_container(pod, "app");
    REQUIRE(st.add_container(c));
    auto r = st.add_container(with_id(make_container(pod, "other"), c.id()));
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::already_exists);
    CHECK(r.error().message() == "container \"" + c.id() + "\" already exists");
    CHECK(st.container_count() == 1);
    CHECK(st.add_container(make_container(pod, "other")));  // name not left reserved
  }
}

TEST_CASE("containers_of lists one pod's containers, oldest first") {
  runtime_state st;
  auto p1 = make_pod("one");
  auto p2 = make_pod("two");
  REQUIRE(st.add_pod(p1));
  REQUIRE(st.add_pod(p2));
  auto a = make_container(p1, "a", {}, 30);
  auto b = make_container(p1, "b", {}, 10);
  auto c = make_container(p2, "c", {}, 20);
  REQUIRE(st.add_container(a));
  REQUIRE(st.add_container(b));
  REQUIRE(st.add_container(c));

  auto of1 = st.containers_of(sandbox_id{p1.id()});
  REQUIRE(of1.size() == 2);
  CHECK(of1[0].id() == b.id());
  CHECK(of1[1].id() == a.id());
  auto of2 = st.containers_of(sandbox_id{p2.id()});
  REQUIRE(of2.size() == 1);
  CHECK(of2[0].id() == c.id());
  CHECK(st.containers_of(sandbox_id{new_id()}).empty());
}

TEST_CASE("get, resolve and remove containers") {
  runtime_state st;
  auto pod = make_pod("web");
  REQUIRE(st.add_pod(pod));
  auto c = make_container(pod, "app");
  c.set_image_ref("docker.io/library/nginx:1");
  REQUIRE(st.add_container(c));
  container_id id{c.id()};

  CHECK(st.get_container(id)->image_ref() == "docker.io/library/nginx:1");
  CHECK(st.resolve_container(c.id().substr(0, 5)).value() == id);
  auto unknown = st.resolve_container("zz");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().kind() == error_kind::not_found);
  CHECK(unknown.error().message() == "container \"zz\" not found");

  CHECK(st.remove_container(id));
  CHECK_FALSE(st.remove_container(id));
  CHECK_FALSE(st.get_container(id));
  CHECK_FALSE(st.resolve_container(c.id()));
  CHECK(st.container_count() == 0);
  CHECK(st.containers_of(sandbox_id{pod.id()}).empty());
}

TEST_CASE("records handed out are copies") {
  runtime_state st;
  auto pod = make_pod("web");
  REQUIRE(st.add_pod(pod));
  auto copy = st.get_pod(sandbox_id{pod.id()});
  copy->set_netns_path("/changed");
  CHECK(st.get_pod(sandbox_id{pod.id()})->netns_path().empty());
}

TEST_CASE("amend edits fields without a state change") {
  runtime_state st;
  auto pod = make_pod("web");
  REQUIRE(st.add_pod(pod));
  sandbox_id pid{pod.id()};

  auto r = st.amend_pod(pid, [](records::pod_sandbox& p) {
    p.set_netns_path("/run/ringcri/netns/x");
    p.add_ips("10.1.0.2");
  });
  REQUIRE(r);
  CHECK(r->state() == runtime::v1::SANDBOX_READY);
  CHECK(st.get_pod(pid)->netns_path() == "/run/ringcri/netns/x");
  CHECK(st.get_pod(pid)->ips_size() == 1);

  auto c = make_container(pod, "app");
  REQUIRE(st.add_container(c));
  auto rc = st.amend_container(container_id{c.id()},
                               [](records::container& x) { x.set_log_path("/var/log/x.log"); });
  REQUIRE(rc);
  CHECK(st.get_container(container_id{c.id()})->log_path() == "/var/log/x.log");
  CHECK(st.get_container(container_id{c.id()})->state() == runtime::v1::CONTAINER_CREATED);

  auto missing = st.amend_pod(sandbox_id{new_id()}, [](records::pod_sandbox&) {});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind() == error_kind::not_found);
}

TEST_CASE("an edit may not change id, pod, state or metadata") {
  runtime_state st;
  auto pod = make_pod("web");
  REQUIRE(st.add_pod(pod));
  sandbox_id pid{pod.id()};
  auto c = make_container(pod, "app");
  REQUIRE(st.add_container(c));
  container_id cid{c.id()};

  auto renamed = st.amend_pod(pid, [](records::pod_sandbox& p) {
    p.set_netns_path("/x");
    p.mutable_config()->mutable_metadata()->set_name("other");
  });
  REQUIRE_FALSE(renamed);
  CHECK(renamed.error().kind() == error_kind::internal);
  CHECK_THAT(renamed.error().message(), Catch::Contains(pod.id()));
  CHECK(st.get_pod(pid)->netns_path().empty());  // nothing applied
  CHECK(st.get_pod(pid)->config().metadata().name() == "web");

  auto restated = st.update_pod(pid, runtime::v1::SANDBOX_NOTREADY, [](records::pod_sandbox& p) {
    p.set_state(runtime::v1::SANDBOX_READY);
  });
  REQUIRE_FALSE(restated);
  CHECK(st.get_pod(pid)->state() == runtime::v1::SANDBOX_READY);

  auto moved =
      st.amend_container(cid, [&](records::container& x) { x.set_pod_sandbox_id(new_id()); });
  REQUIRE_FALSE(moved);
  CHECK(moved.error().kind() == error_kind::internal);
  auto reid = st.update_container(cid, runtime::v1::CONTAINER_RUNNING,
                                  [&](records::container& x) { x.set_id(new_id()); });
  REQUIRE_FALSE(reid);
  CHECK(st.get_container(cid)->state() == runtime::v1::CONTAINER_CREATED);
  auto reattempt = st.amend_container(
      cid, [&](records::container& x) { x.mutable_config()->mutable_metadata()->set_attempt(3); });
  REQUIRE_FALSE(reattempt);
}

TEST_CASE("an edit that throws applies nothing") {
  runtime_state st;
  auto pod = make_pod("web");
  REQUIRE(st.add_pod(pod));
  sandbox_id pid{pod.id()};
  CHECK_THROWS_AS(st.update_pod(pid, runtime::v1::SANDBOX_NOTREADY,
                                [](records::pod_sandbox& p) {
                                  p.set_netns_path("/x");
                                  throw std::runtime_error("boom");
                                }),
                  std::runtime_error);
  auto now = st.get_pod(pid);
  CHECK(now->state() == runtime::v1::SANDBOX_READY);
  CHECK(now->netns_path().empty());
  // and the lock was released
  CHECK(st.update_pod(pid, runtime::v1::SANDBOX_NOTREADY));
}

TEST_CASE("restore puts records back in any state, reserving their names") {
  runtime_state st;
  auto pod = make_pod("web", {}, 1, "ns", "u1");
  pod.set_state(runtime::v1::SANDBOX_NOTREADY);
  REQUIRE(st.restore_pod(pod));
  auto c = make_container(pod, "app");
  c.set_state(runtime::v1::CONTAINER_EXITED);
  c.set_exit_code(3);
  REQUIRE(st.restore_container(c));  // a NOTREADY pod is fine when restoring

  CHECK(st.get_pod(sandbox_id{pod.id()})->state() == runtime::v1::SANDBOX_NOTREADY);
  CHECK(st.get_container(container_id{c.id()})->exit_code() == 3);
  CHECK(st.pod_count() == 1);
  CHECK(st.container_count() == 1);

  // The names are held: a new pod or container by the same name is refused.
  auto pod_clash = st.add_pod(make_pod("web", {}, 2, "ns", "u1"));
  REQUIRE_FALSE(pod_clash);
  CHECK(pod_clash.error().kind() == error_kind::already_exists);
  CHECK_THAT(pod_clash.error().message(), Catch::Contains(pod.id()));

  SECTION("a restored pod clashing with another names both ids") {
    auto twin = make_pod("web", {}, 3, "ns", "u1");
    auto r = st.restore_pod(twin);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::already_exists);
    CHECK(r.error().message() == "restore pod sandbox \"" + twin.id() +
                                     "\": pod sandbox name \"web_ns_u1_0\" is reserved for \"" +
                                     pod.id() + "\"");
  }
  SECTION("a restored container clashing with another names both ids") {
    auto twin = make_container(pod, "app");
    auto r = st.restore_container(twin);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::already_exists);
    CHECK(r.error().message() == "restore container \"" + twin.id() +
                                     "\": container name \"app_web_ns_u1_0\" is reserved for \"" +
                                     c.id() + "\"");
  }
  SECTION("a container whose pod was not restored is NOT_FOUND naming both") {
    auto orphan_pod = make_pod("gone");
    auto orphan = make_container(orphan_pod, "app");
    auto r = st.restore_container(orphan);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::not_found);
    CHECK(r.error().message() == "restore container \"" + orphan.id() + "\": pod sandbox \"" +
                                     orphan_pod.id() + "\" not found");
  }
  SECTION("a corrupt record is refused naming it") {
    auto bad = make_pod("bad");
    bad.mutable_config()->clear_metadata();
    auto r = st.restore_pod(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK(r.error().message() ==
          "restore pod sandbox \"" + bad.id() + "\": config.metadata is required");
  }
  CHECK(st.pod_count() == 1);
  CHECK(st.container_count() == 1);
}
