// Many threads using one runtime_state at once. Catch2's assertions are not
// thread-safe, so the threads count what went wrong and the test checks the
// counts afterwards.

#include <atomic>
#include <catch2/catch.hpp>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "cri/state/runtime_state.hpp"
#include "fixtures.hpp"

using namespace ringcri;
using namespace ringcri::cri::state;
using namespace ringcri::cri::state::test;

namespace {

constexpr int threads = 8;
constexpr int rounds = 300;
constexpr int keep_every = 3;  // every third pod (with its containers) is left in place

}  // namespace

TEST_CASE("8 threads adding, updating, listing and removing at once") {
  runtime_state st;
  std::atomic<int> wrong{0};
  std::atomic<int> listed{0};
  std::latch start(threads);

  auto worker = [&](int t) {
    start.arrive_and_wait();
    for (int round = 0; round < rounds; ++round) {
      auto pod = make_pod("pod-" + std::to_string(t) + "-" + std::to_string(round),
                          {{"thread", std::to_string(t).c_str()}}, round);
      sandbox_id pid{pod.id()};
      if (!st.add_pod(pod)) ++wrong;
      auto a = make_container(pod, "a", {}, round);
      auto b = make_container(pod, "b", {}, round);
      if (!st.add_container(a)) ++wrong;
      if (!st.add_container(b)) ++wrong;

      // Everyone lists while others change things.
      runtime::v1::ContainerFilter mine;
      mine.set_pod_sandbox_id(pod.id().substr(0, 20));
      if (st.list_containers(&mine).size() != 2) ++wrong;
      runtime::v1::PodSandboxFilter by_thread;
      (*by_thread.mutable_label_selector())["thread"] = std::to_string(t);
      listed += static_cast<int>(st.list_pods(&by_thread).size());
      if (round % 8 == 0) {  // full lists copy every record: not every round
        (void)st.list_pods(nullptr);
        (void)st.list_containers(nullptr);
      }
      if (st.resolve_pod(pod.id().substr(0, 16)).value_or(sandbox_id{}) != pid) ++wrong;

      container_id ca{a.id()}, cb{b.id()};
      if (!st.update_container(ca, runtime::v1::CONTAINER_RUNNING,
                               [](records::container& c) { c.set_pid(1); }))
        ++wrong;
      if (!st.update_container(ca, runtime::v1::CONTAINER_EXITED)) ++wrong;
      if (!st.update_container(cb, runtime::v1::CONTAINER_EXITED)) ++wrong;
      if (!st.update_pod(pid, runtime::v1::SANDBOX_NOTREADY)) ++wrong;

      if (round % keep_every == 0) continue;
      if (st.remove_pod(pid)) ++wrong;  // refused: containers remain
      if (!st.remove_container(ca)) ++wrong;
      if (!st.remove_container(cb)) ++wrong;
      if (st.remove_pod(pid).value_or(false) != true) ++wrong;
      if (st.get_pod(pid)) ++wrong;
    }
  };

  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  for (auto& th : pool) th.join();

  CHECK(wrong.load() == 0);
  CHECK(listed.load() > 0);
  constexpr int kept_per_thread = (rounds + keep_every - 1) / keep_every;
  CHECK(st.pod_count() == threads * kept_per_thread);
  CHECK(st.container_count() == 2 * threads * kept_per_thread);
  CHECK(st.list_pods(nullptr).size() == st.pod_count());
  CHECK(st.list_containers(nullptr).size() == st.container_count());
  for (const auto& c : st.list_containers(nullptr))
    CHECK(c.state() == runtime::v1::CONTAINER_EXITED);
}

TEST_CASE("racing for one name: exactly one pod and one container win") {
  for (int attempt = 0; attempt < 20; ++attempt) {
    runtime_state st;
    auto host = make_pod("host");
    REQUIRE(st.add_pod(host));
    std::atomic<int> pods_won{0}, containers_won{0}, other_errors{0};
    std::latch start(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        auto pod = make_pod("shared");
        auto c = make_container(host, "shared");
        start.arrive_and_wait();
        auto p = st.add_pod(pod);
        if (p)
          ++pods_won;
        else if (p.error().kind() != error_kind::already_exists)
          ++other_errors;
        auto r = st.add_container(c);
        if (r)
          ++containers_won;
        else if (r.error().kind() != error_kind::already_exists)
          ++other_errors;
      });
    }
    for (auto& th : pool) th.join();
    CHECK(pods_won.load() == 1);
    CHECK(containers_won.load() == 1);
    CHECK(other_errors.load() == 0);
    CHECK(st.pod_count() == 2);
    CHECK(st.container_count() == 1);
  }
}

// The guard: update_container checks the pod's state in the same critical
// section as the container's move to RUNNING. Each order of the two calls
// has exactly one right outcome.
TEST_CASE("a container cannot start in a pod already NOTREADY") {
  runtime_state st;
  auto pod = make_pod("p");
  REQUIRE(st.add_pod(pod));
  auto c = make_container(pod, "c");
  REQUIRE(st.add_container(c));
  REQUIRE(st.update_pod(sandbox_id{pod.id()}, runtime::v1::SANDBOX_NOTREADY));

  auto started = st.update_container(container_id{c.id()}, runtime::v1::CONTAINER_RUNNING);
  REQUIRE_FALSE(started);
  CHECK(started.error().kind() == error_kind::failed_precondition);
  CHECK_THAT(started.error().message(), Catch::Contains(pod.id()) && Catch::Contains("NOTREADY"));
  CHECK(st.get_container(container_id{c.id()})->state() == runtime::v1::CONTAINER_CREATED);
}

TEST_CASE("a container started before its pod stops stays RUNNING for the stop to end") {
  runtime_state st;
  auto pod = make_pod("p");
  REQUIRE(st.add_pod(pod));
  auto c = make_container(pod, "c");
  REQUIRE(st.add_container(c));
  REQUIRE(st.update_container(container_id{c.id()}, runtime::v1::CONTAINER_RUNNING));
  REQUIRE(st.update_pod(sandbox_id{pod.id()}, runtime::v1::SANDBOX_NOTREADY));
  CHECK(st.get_container(container_id{c.id()})->state() == runtime::v1::CONTAINER_RUNNING);
  CHECK(st.get_pod(sandbox_id{pod.id()})->state() == runtime::v1::SANDBOX_NOTREADY);
}

TEST_CASE("stopping a pod races with starting its container: the start's answer is the state") {
  // Which call wins the lock is up to the scheduler; what each caller is
  // told must match what the state holds afterwards.
  for (int attempt = 0; attempt < 200; ++attempt) {
    runtime_state st;
    auto pod = make_pod("p");
    REQUIRE(st.add_pod(pod));
    auto c = make_container(pod, "c");
    REQUIRE(st.add_container(c));
    std::latch start(2);
    bool stopped = false;
    result<records::container> started = fail(error_kind::internal, "not run");
    std::thread stopper([&] {
      start.arrive_and_wait();
      stopped = st.update_pod(sandbox_id{pod.id()}, runtime::v1::SANDBOX_NOTREADY).has_value();
    });
    std::thread starter([&] {
      start.arrive_and_wait();
      started = st.update_container(container_id{c.id()}, runtime::v1::CONTAINER_RUNNING);
    });
    stopper.join();
    starter.join();
    CHECK(stopped);
    auto now = st.get_container(container_id{c.id()});
    REQUIRE(now);
    if (started) {
      CHECK(now->state() == runtime::v1::CONTAINER_RUNNING);
    } else {
      CHECK(started.error().kind() == error_kind::failed_precondition);
      CHECK(now->state() == runtime::v1::CONTAINER_CREATED);
    }
    CHECK(st.get_pod(sandbox_id{pod.id()})->state() == runtime::v1::SANDBOX_NOTREADY);
  }
}
