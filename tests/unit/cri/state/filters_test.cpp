#include "cri/state/filters.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "cri/state/runtime_state.hpp"
#include "fixtures.hpp"

using namespace ringcri;
using namespace ringcri::cri::state;
using namespace ringcri::cri::state::test;

namespace {

// Full ids with chosen leading digits, so prefixes are predictable.
std::string id_with(const std::string& head) { return head + std::string(64 - head.size(), '0'); }

const std::string p1 = id_with("a1"), p2 = id_with("a2"), p3 = id_with("b1");
const std::string c1 = id_with("c1"), c2 = id_with("c2"), c3 = id_with("d1"), c4 = id_with("c3");

// Pods:       p1 READY    {app=web, tier=front}  created 30
//             p2 NOTREADY {app=web, tier=back}   created 10
//             p3 READY    {app=db}               created 20
// Containers: c1 in p1 RUNNING {role=main, app=web} created 5
//             c2 in p1 EXITED  {role=side}          created 6
//             c3 in p3 CREATED {role=main}          created 7
//             c4 in p2 EXITED  {role=main}          created 4
struct world {
  runtime_state st;
  world() {
    auto pod1 = with_id(make_pod("one", {{"app", "web"}, {"tier", "front"}}, 30), p1);
    auto pod2 = with_id(make_pod("two", {{"app", "web"}, {"tier", "back"}}, 10), p2);
    auto pod3 = with_id(make_pod("three", {{"app", "db"}}, 20), p3);
    REQUIRE(st.add_pod(pod1));
    REQUIRE(st.add_pod(pod2));
    REQUIRE(st.add_pod(pod3));

    REQUIRE(st.add_container(
        with_id(make_container(pod1, "main", {{"role", "main"}, {"app", "web"}}, 5), c1)));
    REQUIRE(st.add_container(with_id(make_container(pod1, "side", {{"role", "side"}}, 6), c2)));
    REQUIRE(st.add_container(with_id(make_container(pod3, "main", {{"role", "main"}}, 7), c3)));
    REQUIRE(st.add_container(with_id(make_container(pod2, "main", {{"role", "main"}}, 4), c4)));

    REQUIRE(st.update_container(container_id{c1}, runtime::v1::CONTAINER_RUNNING));
    REQUIRE(st.update_container(container_id{c2}, runtime::v1::CONTAINER_EXITED));
    REQUIRE(st.update_container(container_id{c4}, runtime::v1::CONTAINER_EXITED));
    REQUIRE(st.update_pod(sandbox_id{p2}, runtime::v1::SANDBOX_NOTREADY));
  }

  std::vector<std::string> pods(const runtime::v1::PodSandboxFilter* f) const {
    std::vector<std::string> ids;
    for (const auto& p : st.list_pods(f)) ids.push_back(p.id());
    return ids;
  }
  std::vector<std::string> containers(const runtime::v1::ContainerFilter* f) const {
    std::vector<std::string> ids;
    for (const auto& c : st.list_containers(f)) ids.push_back(c.id());
    return ids;
  }
};

using ids = std::vector<std::string>;

runtime::v1::PodSandboxFilter pod_filter(const std::string& id = "",
                                         std::optional<runtime::v1::PodSandboxState> state = {},
                                         labels l = {}) {
  runtime::v1::PodSandboxFilter f;
  f.set_id(id);
  if (state) f.mutable_state()->set_state(*state);
  for (const auto& [k, v] : l) (*f.mutable_label_selector())[k] = v;
  return f;
}

runtime::v1::ContainerFilter container_filter(const std::string& id = "",
                                              std::optional<runtime::v1::ContainerState> state = {},
                                              const std::string& pod = "", labels l = {}) {
  runtime::v1::ContainerFilter f;
  f.set_id(id);
  if (state) f.mutable_state()->set_state(*state);
  f.set_pod_sandbox_id(pod);
  for (const auto& [k, v] : l) (*f.mutable_label_selector())[k] = v;
  return f;
}

}  // namespace

TEST_CASE("labels_match needs every selector pair, exactly") {
  label_map labels;
  labels["app"] = "web";
  labels["tier"] = "front";
  labels["empty"] = "";
  CHECK(labels_match({}, labels));
  CHECK(labels_match({{"app", "web"}}, labels));
  CHECK(labels_match({{"app", "web"}, {"tier", "front"}}, labels));
  CHECK(labels_match({{"empty", ""}}, labels));
  CHECK_FALSE(labels_match({{"app", "we"}}, labels));  // no partial values
  CHECK_FALSE(labels_match({{"app", "web "}}, labels));
  CHECK_FALSE(labels_match({{"app", "web"}, {"tier", "back"}}, labels));
  CHECK_FALSE(labels_match({{"missing", ""}}, labels));  // absent is not empty
  CHECK_FALSE(labels_match({{"App", "web"}}, labels));   // keys are case-sensitive
}

TEST_CASE("list_pods: no filter or an empty one lists all, oldest first") {
  world w;
  CHECK(w.pods(nullptr) == ids{p2, p3, p1});
  runtime::v1::PodSandboxFilter empty;
  CHECK(w.pods(&empty) == ids{p2, p3, p1});
}

TEST_CASE("list_pods: by id, full or prefix") {
  world w;
  auto full = pod_filter(p1);
  CHECK(w.pods(&full) == ids{p1});
  auto prefix = pod_filter("a2");
  CHECK(w.pods(&prefix) == ids{p2});
  auto ambiguous = pod_filter("a");
  CHECK(w.pods(&ambiguous).empty());
  auto unknown = pod_filter("ff");
  CHECK(w.pods(&unknown).empty());
  auto container_id_given = pod_filter(c1);  // a container id is no pod id
  CHECK(w.pods(&container_id_given).empty());
}

TEST_CASE("list_pods: by state") {
  world w;
  auto ready = pod_filter("", runtime::v1::SANDBOX_READY);
  CHECK(w.pods(&ready) == ids{p3, p1});
  auto notready = pod_filter("", runtime::v1::SANDBOX_NOTREADY);
  CHECK(w.pods(&notready) == ids{p2});
}

TEST_CASE("list_pods: by label selector") {
  world w;
  auto web = pod_filter("", {}, {{"app", "web"}});
  CHECK(w.pods(&web) == ids{p2, p1});
  auto web_front = pod_filter("", {}, {{"app", "web"}, {"tier", "front"}});
  CHECK(w.pods(&web_front) == ids{p1});
  auto wrong_value = pod_filter("", {}, {{"app", "web"}, {"tier", "middle"}});
  CHECK(w.pods(&wrong_value).empty());
  auto missing_key = pod_filter("", {}, {{"zone", "a"}});
  CHECK(w.pods(&missing_key).empty());
}

TEST_CASE("list_pods: fields combine with AND") {
  world w;
  auto id_and_state = pod_filter("a1", runtime::v1::SANDBOX_READY);
  CHECK(w.pods(&id_and_state) == ids{p1});
  auto id_wrong_state = pod_filter("a1", runtime::v1::SANDBOX_NOTREADY);
  CHECK(w.pods(&id_wrong_state).empty());
  auto state_and_labels = pod_filter("", runtime::v1::SANDBOX_READY, {{"app", "web"}});
  CHECK(w.pods(&state_and_labels) == ids{p1});
  auto notready_web = pod_filter("", runtime::v1::SANDBOX_NOTREADY, {{"app", "web"}});
  CHECK(w.pods(&notready_web) == ids{p2});
  auto all_three = pod_filter("b", runtime::v1::SANDBOX_READY, {{"app", "db"}});
  CHECK(w.pods(&all_three) == ids{p3});
  auto all_three_miss = pod_filter("b", runtime::v1::SANDBOX_READY, {{"app", "web"}});
  CHECK(w.pods(&all_three_miss).empty());
}

TEST_CASE("list_containers: no filter or an empty one lists all, oldest first") {
  world w;
  CHECK(w.containers(nullptr) == ids{c4, c1, c2, c3});
  runtime::v1::ContainerFilter empty;
  CHECK(w.containers(&empty) == ids{c4, c1, c2, c3});
}

TEST_CASE("list_containers: by id, full or prefix") {
  world w;
  auto full = container_filter(c3);
  CHECK(w.containers(&full) == ids{c3});
  auto prefix = container_filter("c1");
  CHECK(w.containers(&prefix) == ids{c1});
  auto ambiguous = container_filter("c");
  CHECK(w.containers(&ambiguous).empty());
  auto unknown = container_filter("e");
  CHECK(w.containers(&unknown).empty());
}

TEST_CASE("list_containers: by state") {
  world w;
  auto running = container_filter("", runtime::v1::CONTAINER_RUNNING);
  CHECK(w.containers(&running) == ids{c1});
  auto exited = container_filter("", runtime::v1::CONTAINER_EXITED);
  CHECK(w.containers(&exited) == ids{c4, c2});
  auto created = container_filter("", runtime::v1::CONTAINER_CREATED);
  CHECK(w.containers(&created) == ids{c3});
  auto unknown = container_filter("", runtime::v1::CONTAINER_UNKNOWN);
  CHECK(w.containers(&unknown).empty());
}

TEST_CASE("list_containers: by pod id, full or prefix") {
  world w;
  auto full = container_filter("", {}, p1);
  CHECK(w.containers(&full) == ids{c1, c2});
  auto prefix = container_filter("", {}, "b");
  CHECK(w.containers(&prefix) == ids{c3});
  auto ambiguous = container_filter("", {}, "a");
  CHECK(w.containers(&ambiguous).empty());
  auto unknown = container_filter("", {}, "ee");
  CHECK(w.containers(&unknown).empty());
}

TEST_CASE("list_containers: by label selector") {
  world w;
  auto main = container_filter("", {}, "", {{"role", "main"}});
  CHECK(w.containers(&main) == ids{c4, c1, c3});
  auto main_web = container_filter("", {}, "", {{"role", "main"}, {"app", "web"}});
  CHECK(w.containers(&main_web) == ids{c1});
  auto none = container_filter("", {}, "", {{"role", "main"}, {"app", "db"}});
  CHECK(w.containers(&none).empty());
  // Pod labels are not container labels.
  auto pod_label = container_filter("", {}, "", {{"tier", "front"}});
  CHECK(w.containers(&pod_label).empty());
}

TEST_CASE("list_containers: fields combine with AND") {
  world w;
  auto pod_and_state = container_filter("", runtime::v1::CONTAINER_EXITED, "a1");
  CHECK(w.containers(&pod_and_state) == ids{c2});
  auto pod_and_labels = container_filter("", {}, "a1", {{"role", "main"}});
  CHECK(w.containers(&pod_and_labels) == ids{c1});
  auto id_other_pod = container_filter("c1", {}, "b1");
  CHECK(w.containers(&id_other_pod).empty());
  auto id_own_pod = container_filter("c1", {}, "a1");
  CHECK(w.containers(&id_own_pod) == ids{c1});
  auto id_wrong_state = container_filter("c2", runtime::v1::CONTAINER_RUNNING);
  CHECK(w.containers(&id_wrong_state).empty());
  auto all_four = container_filter("c1", runtime::v1::CONTAINER_RUNNING, "a1",
                                   {{"role", "main"}, {"app", "web"}});
  CHECK(w.containers(&all_four) == ids{c1});
  auto all_four_miss =
      container_filter("c1", runtime::v1::CONTAINER_RUNNING, "a1", {{"role", "side"}});
  CHECK(w.containers(&all_four_miss).empty());
}

TEST_CASE("listing order breaks created_at ties by id") {
  runtime_state st;
  REQUIRE(st.add_pod(with_id(make_pod("z", {}, 5), id_with("f"))));
  REQUIRE(st.add_pod(with_id(make_pod("y", {}, 5), id_with("0"))));
  REQUIRE(st.add_pod(with_id(make_pod("x", {}, 1), id_with("9"))));
  std::vector<std::string> got;
  for (const auto& p : st.list_pods(nullptr)) got.push_back(p.id());
  CHECK(got == ids{id_with("9"), id_with("0"), id_with("f")});
}

TEST_CASE("a list reflects removals at once") {
  world w;
  REQUIRE(w.st.remove_container(container_id{c3}));
  REQUIRE(w.st.remove_pod(sandbox_id{p3}).value());
  CHECK(w.pods(nullptr) == ids{p2, p1});
  CHECK(w.containers(nullptr) == ids{c4, c1, c2});
  auto gone = container_filter("", {}, "b");
  CHECK(w.containers(&gone).empty());
}
