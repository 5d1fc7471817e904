#include "cri/state/transitions.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "cri/state/runtime_state.hpp"
#include "fixtures.hpp"

using namespace ringcri;
using namespace ringcri::cri::state;
using namespace ringcri::cri::state::test;
using runtime::v1::ContainerState;
using runtime::v1::PodSandboxState;

namespace {

struct pod_row {
  PodSandboxState from, to;
  bool allowed;
};

// Every pair of pod states.
constexpr pod_row pod_table[] = {
    {runtime::v1::SANDBOX_READY, runtime::v1::SANDBOX_NOTREADY, true},
    {runtime::v1::SANDBOX_NOTREADY, runtime::v1::SANDBOX_NOTREADY, true},
    {runtime::v1::SANDBOX_NOTREADY, runtime::v1::SANDBOX_READY, false},
    {runtime::v1::SANDBOX_READY, runtime::v1::SANDBOX_READY, false},
};

struct container_row {
  ContainerState from, to;
  bool allowed;
};

constexpr auto created = runtime::v1::CONTAINER_CREATED;
constexpr auto running = runtime::v1::CONTAINER_RUNNING;
constexpr auto exited = runtime::v1::CONTAINER_EXITED;
constexpr auto unknown = runtime::v1::CONTAINER_UNKNOWN;

// Every pair of container states (4 x 4).
constexpr container_row container_table[] = {
    {created, created, false}, {created, running, true},  {created, exited, true},
    {created, unknown, true},  {running, created, false}, {running, running, false},
    {running, exited, true},   {running, unknown, true},  {exited, created, false},
    {exited, running, false},  {exited, exited, true},    {exited, unknown, true},
    {unknown, created, false}, {unknown, running, true},  {unknown, exited, true},
    {unknown, unknown, true},
};

}  // namespace

TEST_CASE("pod transitions: the table") {
  for (const auto& row : pod_table) {
    INFO(state_name(row.from) << " -> " << state_name(row.to));
    CHECK(pod_transition_allowed(row.from, row.to) == row.allowed);
    auto r = check_pod_transition(sandbox_id{"p1"}, row.from, row.to);
    CHECK(bool(r) == row.allowed);
    if (!r) {
      CHECK(r.error().kind() == error_kind::failed_precondition);
      CHECK(r.error().message() == "pod sandbox \"p1\" is in " + state_name(row.from) +
                                       " state, cannot become " + state_name(row.to));
    }
  }
}

TEST_CASE("container transitions: the table") {
  for (const auto& row : container_table) {
    INFO(state_name(row.from) << " -> " << state_name(row.to));
    CHECK(container_transition_allowed(row.from, row.to) == row.allowed);
    auto r = check_container_transition(container_id{"c1"}, row.from, row.to);
    CHECK(bool(r) == row.allowed);
    if (!r) {
      CHECK(r.error().kind() == error_kind::failed_precondition);
      CHECK(r.error().message() == "container \"c1\" is in " + state_name(row.from) +
                                       " state, cannot become " + state_name(row.to));
    }
  }
}

TEST_CASE("transition messages spell the states") {
  auto r = check_container_transition(container_id{"abc"}, exited, running);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() ==
        "container \"abc\" is in CONTAINER_EXITED state, cannot become CONTAINER_RUNNING");
}

TEST_CASE("states outside the enum are refused and named by number") {
  auto bogus_c = static_cast<ContainerState>(9);
  auto bogus_p = static_cast<PodSandboxState>(5);
  CHECK_FALSE(container_transition_allowed(bogus_c, exited));
  CHECK_FALSE(container_transition_allowed(created, bogus_c));
  CHECK_FALSE(pod_transition_allowed(bogus_p, runtime::v1::SANDBOX_NOTREADY));
  CHECK_FALSE(pod_transition_allowed(runtime::v1::SANDBOX_READY, bogus_p));
  CHECK(state_name(bogus_c) == "state(9)");
  CHECK(state_name(bogus_p) == "state(5)");
  auto r = check_container_transition(container_id{"c"}, running, bogus_c);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() ==
        "container \"c\" is in CONTAINER_RUNNING state, cannot become state(9)");
}

TEST_CASE("runtime_state::update_pod follows the table") {
  for (const auto& row : pod_table) {
    INFO(state_name(row.from) << " -> " << state_name(row.to));
    runtime_state st;
    auto pod = make_pod("p");
    pod.set_state(row.from);
    REQUIRE(st.restore_pod(pod));
    sandbox_id id{pod.id()};
    auto r = st.update_pod(id, row.to);
    REQUIRE(bool(r) == row.allowed);
    if (r) {
      CHECK(r->state() == row.to);
      CHECK(st.get_pod(id)->state() == row.to);
    } else {
      CHECK(r.error().kind() == error_kind::failed_precondition);
      CHECK_THAT(r.error().message(), Catch::Contains(pod.id()));
      CHECK(st.get_pod(id)->state() == row.from);  // unchanged
    }
  }
}

TEST_CASE("runtime_state::update_container follows the table") {
  for (const auto& row : container_table) {
    INFO(state_name(row.from) << " -> " << state_name(row.to));
    runtime_state st;
    auto pod = make_pod("p");
    REQUIRE(st.add_pod(pod));
    auto c = make_container(pod, "c");
    c.set_state(row.from);
    REQUIRE(st.restore_container(c));
    container_id id{c.id()};
    auto r = st.update_container(id, row.to);
    REQUIRE(bool(r) == row.allowed);
    if (r) {
      CHECK(r->state() == row.to);
      CHECK(st.get_container(id)->state() == row.to);
    } else {
      CHECK(r.error().kind() == error_kind::failed_precondition);
      CHECK(r.error().message() == "container \"" + c.id() + "\" is in " + state_name(row.from) +
                                       " state, cannot become " + state_name(row.to));
      CHECK(st.get_container(id)->state() == row.from);
    }
  }
}

TEST_CASE("a created container cannot start once its pod is not ready") {
  runtime_state st;
  auto pod = make_pod("p");
  REQUIRE(st.add_pod(pod));
  auto c = make_container(pod, "c");
  REQUIRE(st.add_container(c));
  REQUIRE(st.update_pod(sandbox_id{pod.id()}, runtime::v1::SANDBOX_NOTREADY));

  auto r = st.update_container(container_id{c.id()}, running);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::failed_precondition);
  CHECK(r.error().message() == "pod sandbox \"" + pod.id() +
                                   "\" is in SANDBOX_NOTREADY state, cannot start container \"" +
                                   c.id() + "\"");
  // It may still be marked exited (the pod stop tidies it up).
  CHECK(st.update_container(container_id{c.id()}, exited));
}

TEST_CASE("update with `also` applies the state and the edit together") {
  runtime_state st;
  auto pod = make_pod("p");
  REQUIRE(st.add_pod(pod));
  auto c = make_container(pod, "c");
  REQUIRE(st.add_container(c));
  container_id id{c.id()};

  auto started = st.update_container(id, running, [](records::container& r) {
    r.set_started_at(42);
    r.set_pid(1234);
  });
  REQUIRE(started);
  CHECK(started->state() == running);
  CHECK(started->pid() == 1234);

  auto stopped = st.update_container(id, exited, [](records::container& r) {
    r.set_finished_at(99);
    r.set_exit_code(137);
    r.set_reason("Error");
  });
  REQUIRE(stopped);
  auto now = st.get_container(id);
  CHECK(now->state() == exited);
  CHECK(now->started_at() == 42);
  CHECK(now->finished_at() == 99);
  CHECK(now->exit_code() == 137);
  CHECK(now->reason() == "Error");

  // Idempotent stop keeps the first exit unless the edit says otherwise.
  REQUIRE(st.update_container(id, exited));
  CHECK(st.get_container(id)->exit_code() == 137);

  auto pod_r = st.update_pod(sandbox_id{pod.id()}, runtime::v1::SANDBOX_NOTREADY,
                             [](records::pod_sandbox& p) { p.clear_ips(); });
  REQUIRE(pod_r);
  CHECK(pod_r->state() == runtime::v1::SANDBOX_NOTREADY);
}

TEST_CASE("an illegal transition does not run `also`") {
  runtime_state st;
  auto pod = make_pod("p");
  REQUIRE(st.add_pod(pod));
  auto c = make_container(pod, "c");
  REQUIRE(st.add_container(c));
  bool ran = false;
  auto r =
      st.update_container(container_id{c.id()}, created, [&](records::container&) { ran = true; });
  REQUIRE_FALSE(r);
  CHECK_FALSE(ran);
}

TEST_CASE("update of an unknown id is NOT_FOUND naming it") {
  runtime_state st;
  auto p = st.update_pod(sandbox_id{"nope"}, runtime::v1::SANDBOX_NOTREADY);
  REQUIRE_FALSE(p);
  CHECK(p.error().kind() == error_kind::not_found);
  CHECK(p.error().message() == "pod sandbox \"nope\" not found");
  auto c = st.update_container(container_id{"nope"}, exited);
  REQUIRE_FALSE(c);
  CHECK(c.error().kind() == error_kind::not_found);
  CHECK(c.error().message() == "container \"nope\" not found");
}
