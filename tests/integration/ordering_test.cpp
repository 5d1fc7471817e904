// The lifecycle RPCs of one pod take turns: sent at once from two clients,
// a RemovePodSandbox and a CreateContainer (or a StartContainer, or a
// StopContainer) of the same pod never interleave at their suspension
// points, so whatever order they land in, nothing is left behind: no
// container of a removed pod, no process, no cgroup, no mount.

#include <thread>

#include "support/processes.hpp"
#include "support/runtime_fixture.hpp"

using namespace ringcri::testing;


TEST_CASE("a pod removed while its container is being created and started leaves nothing") {
  runtime_fixture f;
  cri_client second(f.daemon.socket());
  for (int round = 0; round < 12; ++round) {
    INFO("round " << round);
    auto pod_config = f.pod_config("race-" + std::to_string(round));
    std::string pod;
    REQUIRE(f.run_pod(pod_config, &pod).ok());
    auto config = f.container_config("racer", {"sleep", "4242"});

    grpc::Status created, started, removed;
    std::string id;
    std::thread creator([&] {
      created = f.create(pod, pod_config, config, &id);
      if (created.ok()) started = f.start(id);
    });
    // Half the rounds remove at once, half a little later, so both orders
    // and the middle are tried.
    if (round % 2) std::this_thread::sleep_for(std::chrono::milliseconds(2 * round));
    v1::RemovePodSandboxRequest req;
    req.set_pod_sandbox_id(pod);
    v1::RemovePodSandboxResponse resp;
    removed = second.runtime_call(&S::RemovePodSandbox, req, &resp);
    creator.join();
    INFO(created.error_message() << " / " << started.error_message() << " / "
                                 << removed.error_message());
    CHECK(removed.ok());
    // Whichever came first, the pod is gone, and the container with it.
    v1::ListContainersResponse list;
    REQUIRE(f.client.runtime_call(&S::ListContainers, v1::ListContainersRequest{}, &list).ok());
    CHECK(list.containers_size() == 0);
    if (!created.ok()) CHECK(created.error_code() == grpc::StatusCode::NOT_FOUND);
  }
  CHECK(processes_with("sleep 4242").empty());
  f.check_nothing_left();
}

TEST_CASE("stop and remove of one container sent at once both succeed, in either order") {
  runtime_fixture f;
  cri_client second(f.daemon.socket());
  auto pod_config = f.pod_config("stop-remove");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  for (int round = 0; round < 6; ++round) {
    INFO("round " << round);
    auto id = f.create_and_start(pod, pod_config, f.container_config("c" + std::to_string(round), {"sleep", "4243"}));
    grpc::Status stopped, removed;
    std::thread stopper([&] { stopped = f.stop(id, 1); });
    v1::RemoveContainerRequest req;
    req.set_container_id(id);
    v1::RemoveContainerResponse resp;
    removed = second.runtime_call(&S::RemoveContainer, req, &resp);
    stopper.join();
    INFO(stopped.error_message() << " / " << removed.error_message());
    CHECK(removed.ok());
    // A stop that came second finds nothing: NOT_FOUND, never a half-state.
    CHECK((stopped.ok() || stopped.error_code() == grpc::StatusCode::NOT_FOUND));
  }
  CHECK(f.container_count() == 0);
  CHECK(processes_with("sleep 4243").empty());
  f.remove_pod(pod);
  f.check_nothing_left();
}
