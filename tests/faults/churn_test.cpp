// The random-point run: rounds of pod churn (host and CNI pods in turn)
// beside five containers that run throughout and log a counter each,
// with the daemon SIGKILLed at a random moment of every other round and
// started again. Afterwards nothing the CRI had seen is lost: the five
// still run, their counters are contiguous in their logs, every churn
// container that started ends with its own exit code, and once every pod
// is removed nothing is left.
// RINGCRI_CHURN_ROUNDS sets the count (make test: 20; make test-faults: 200).

#include <signal.h>

#include <random>
#include <thread>

#include "support/processes.hpp"
#include "support/runtime_fixture.hpp"
#include "support/test_network.hpp"

using namespace ringcri::testing;

namespace {

constexpr int steady_count = 5;

// The counters of a CRI log file ("<time> stdout F <n>"), in order.
std::vector<long> counters(const fs::path& log) {
  std::vector<long> out;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    auto last = line.rfind(' ');
    REQUIRE(last != std::string::npos);
    REQUIRE(line.find(" stdout F ") != std::string::npos);  // whole lines, from stdout
    out.push_back(std::stol(line.substr(last + 1)));
  }
  return out;
}

}  // namespace

TEST_CASE("SIGKILL of the daemon at random moments of pod churn loses no container, log line or exit code") {
  skip_unless_ready();
  skip_unless_cni();
  int rounds = 20;
  if (const char* n = std::getenv("RINGCRI_CHURN_ROUNDS")) rounds = std::atoi(n);
  std::mt19937 random(20261203);
  std::cout << "churn: " << rounds << " rounds, seed 20261203" << std::endl;

  test_network net;
  runtime_fixture f(net.daemon_flags());

  // The steady pod: five containers counting, one line a tenth of a second.
  auto steady_config = f.pod_config("steady");
  steady_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
  std::string steady;
  REQUIRE(f.run_pod(steady_config, &steady).ok());
  std::vector<std::string> counting;
  for (int i = 0; i < steady_count; ++i)
    counting.push_back(f.create_and_start(
        steady, steady_config,
        f.container_config("count" + std::to_string(i),
                           {"sh", "-c", "i=0; while :; do echo $i; i=$((i+1)); sleep 0.1; done"})));

  auto churn_pods = [&] {
    std::vector<std::string> ids;
    v1::ListPodSandboxResponse resp;
    REQUIRE(f.client.runtime_call(&S::ListPodSandbox, v1::ListPodSandboxRequest{}, &resp).ok());
    for (const auto& p : resp.items())
      if (p.id() != steady) ids.push_back(p.id());
    return ids;
  };

  int kills = 0, exits_checked = 0;
  for (int round = 0; round < rounds; ++round) {
    const bool kill = round % 2 == 1;
    std::thread killer;
    if (kill) {
      auto delay = std::chrono::milliseconds(random() % 400);
      pid_t pid = f.daemon.pid();
      killer = std::thread([delay, pid] {
        std::this_thread::sleep_for(delay);
        ::kill(pid, SIGKILL);  // still ours to reap: the fixture waits for it
      });
    }
    // One round: a pod (host network two rounds, CNI the next two), a
    // container in it that exits with a code of its own.
    auto config = f.pod_config("churn-" + std::to_string(round));
    if (round % 4 < 2)
      config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
    const int code = round % 50 + 1;
    std::string pod, id;
    if (f.run_pod(config, &pod).ok()) {
      auto c = f.container_config("exit-" + std::to_string(code), {"sh", "-c", "sleep 0.2; exit " + std::to_string(code)});
      if (f.create(pod, config, c, &id).ok()) (void)f.start(id);
    }
    if (kill) {
      killer.join();
      f.daemon.kill();
      f.daemon.restart();
      f.client.reconnect();
      ++kills;
    }
    // Whatever the round left: every churn container that started ends
    // with its own code; then its pod goes.
    v1::ListContainersResponse all;
    REQUIRE(f.client.runtime_call(&S::ListContainers, v1::ListContainersRequest{}, &all).ok());
    for (const auto& c : all.containers()) {
      if (c.pod_sandbox_id() == steady || c.state() == v1::CONTAINER_CREATED) continue;
      auto status = f.wait_exited(c.id());
      INFO("round " << round << ", container " << c.metadata().name() << ": " << status.reason() << " "
                    << status.message());
      REQUIRE(status.state() == v1::CONTAINER_EXITED);
      CHECK("exit-" + std::to_string(status.exit_code()) == c.metadata().name());
      ++exits_checked;
    }
    for (const auto& p : churn_pods()) f.remove_pod(p);
  }
  std::cout << "churn: " << kills << " daemon kills, " << exits_checked << " exit codes checked" << std::endl;

  // The steady five ran throughout, and logged every line.
  for (std::size_t i = 0; i < counting.size(); ++i) {
    INFO("container count" << i);
    CHECK(f.status(counting[i]).status().state() == v1::CONTAINER_RUNNING);
    auto seen = counters(f.logs.path() / "steady" / ("count" + std::to_string(i) + ".log"));
    REQUIRE(!seen.empty());
    CHECK(seen.front() == 0);
    for (std::size_t k = 1; k < seen.size(); ++k) {
      if (seen[k] != seen[k - 1] + 1) FAIL("line " << k << ": " << seen[k - 1] << " then " << seen[k]);
    }
  }
  f.remove_pod(steady);
  CHECK(churn_pods().empty());
  CHECK(f.container_count() == 0);
  CHECK(net.veths_settled(0) == 0);
  CHECK(net.reservations().empty());
  CHECK(processes_with("while :; do echo").empty());
  f.check_nothing_left();
}
