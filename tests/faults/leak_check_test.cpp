// The leak check: pod cycles (run, create, start, exec, stop, remove;
// host-network and CNI pods in turn), after which the daemon's and the
// keeper's open files, mounts, cgroups, netns files, veths and IP
// reservations are back where they started. RSS growth is printed, not
// asserted (it depends on the allocator and the machine).
// RINGCRI_LEAK_CYCLES sets the count (make test: 100; make test-faults: 1000).

#include <set>

#include "support/processes.hpp"
#include "support/runtime_fixture.hpp"
#include "support/test_network.hpp"

using namespace ringcri::testing;

namespace {

std::size_t open_files(pid_t pid) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    ++n;
  return n;
}

long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

pid_t keeper_of(ringcri_process& daemon) {
  std::ifstream lock(daemon.state() / "keeper.lock");
  pid_t pid = 0;
  lock >> pid;
  return pid;
}

std::size_t netns_files(ringcri_process& daemon) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(daemon.state(), ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->path().parent_path().filename() == "netns" || it->path().filename() == "netns") ++n;
  return n;
}

struct snapshot {
  std::size_t daemon_files, keeper_files, mounts, cgroups, netns, veths, reservations;
  long daemon_rss, keeper_rss;
};

}  // namespace

TEST_CASE("pod cycles leave no file, mount, cgroup, netns, veth or IP behind") {
  skip_unless_ready();
  skip_unless_cni();
  int cycles = 100;
  if (const char* n = std::getenv("RINGCRI_LEAK_CYCLES")) cycles = std::atoi(n);
  test_network net;
  runtime_fixture f(net.daemon_flags());

  auto take = [&] {
    pid_t keeper = keeper_of(f.daemon);
    REQUIRE(keeper > 0);
    return snapshot{open_files(f.daemon.pid()),
                    open_files(keeper),
                    mounts_under(f.daemon.dir().string()).size(),
                    cgroups_named("ringcri").size(),
                    netns_files(f.daemon),
                    net.veths_settled(0),
                    net.reservations().size(),
                    rss_kib(f.daemon.pid()),
                    rss_kib(keeper)};
  };

  auto cycle = [&](int i) {
    auto config = f.pod_config("leak-" + std::to_string(i));
    if (i % 2 == 0)  // host network: no CNI
      config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
    std::string pod;
    auto st = f.run_pod(config, &pod);
    INFO("cycle " << i << ": " << st.error_message());
    REQUIRE(st.ok());
    auto id = f.create_and_start(pod, config, f.container_config("c", {"sleep", "1000"}));
    v1::ExecSyncRequest exec;
    exec.set_container_id(id);
    exec.add_cmd("echo");
    exec.add_cmd("in");
    exec.set_timeout(10);
    v1::ExecSyncResponse out;
    st = f.client.runtime_call(&S::ExecSync, exec, &out);
    REQUIRE(st.ok());
    REQUIRE(out.stdout() == "in\n");
    REQUIRE(f.stop(id, 0).ok());
    REQUIRE(f.stop_pod(pod).ok());
    f.remove_pod(pod);
  };

  // A few cycles first: thread pools, caches and the keeper's first
  // connection are there from then on.
  for (int i = 0; i < 5; ++i) cycle(i);
  auto before = take();
  for (int i = 5; i < 5 + cycles; ++i) cycle(i);
  auto after = take();

  std::cout << "leak check, " << cycles << " cycles: daemon fds " << before.daemon_files << " -> "
            << after.daemon_files << ", keeper fds " << before.keeper_files << " -> " << after.keeper_files
            << ", daemon RSS " << before.daemon_rss << " -> " << after.daemon_rss << " KiB, keeper RSS "
            << before.keeper_rss << " -> " << after.keeper_rss << " KiB" << std::endl;
  // Each reactor keeps one netfilter socket, opened at its first pod with
  // a network (nft::open): one reactor may open its own after the warm-up.
  CHECK(after.daemon_files >= before.daemon_files);
  CHECK(after.daemon_files <= before.daemon_files + 1);
  CHECK(after.keeper_files == before.keeper_files);
  CHECK(after.mounts == before.mounts);
  CHECK(after.cgroups == before.cgroups);
  CHECK(after.netns == before.netns);
  CHECK(after.veths == 0);
  CHECK(after.reservations == 0);
  CHECK(f.container_count() == 0);
  f.check_nothing_left();
}
