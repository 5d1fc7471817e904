// Resources and stats against the real daemon and the node's real cgroups:
// the limits a container is created with are in its cgroup's files, an
// update changes them while it runs, a container that allocates past its
// limit is OOMKilled, and the stats move when the container works. The
// systemd cgroup driver's slices and a bad cgroup parent are checked too.

#include "support/runtime_fixture.hpp"

using namespace ringcri::testing;

namespace {

std::string cgroup_of(runtime_fixture& f, const std::string& id) {
  return f.container_info(id).at("cgroupPath").get<std::string>();
}

// The value of a control file, or "" when no hierarchy has it.
std::string control(const std::string& controller, const std::string& cgroup, const std::string& name) {
  auto path = cgroup_file(controller, cgroup, name);
  return path.empty() ? "" : trimmed(read_file(path));
}

bool v2_memory(const std::string& cgroup) { return !cgroup_file("memory", cgroup, "memory.max").empty(); }

// The memory limit in the cgroup's file, v1 or v2, whichever it has.
std::string memory_limit(const std::string& cgroup) {
  return v2_memory(cgroup) ? control("memory", cgroup, "memory.max")
                           : control("memory", cgroup, "memory.limit_in_bytes");
}

v1::ContainerStats container_stats(runtime_fixture& f, const std::string& id) {
  v1::ContainerStatsRequest req;
  req.set_container_id(id);
  v1::ContainerStatsResponse resp;
  auto st = f.client.runtime_call(&S::ContainerStats, req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return resp.stats();
}

}  // namespace

TEST_CASE("resources: limits are in the cgroup files, and UpdateContainerResources changes them live") {
  runtime_fixture f;
  auto pod_config = f.pod_config("limits");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto config = f.container_config("limited", {"sleep", "300"});
  auto* r = config.mutable_linux()->mutable_resources();
  r->set_memory_limit_in_bytes(64 << 20);
  r->set_cpu_period(100000);
  r->set_cpu_quota(50000);
  r->set_cpu_shares(512);
  r->set_cpuset_cpus("0");
  auto id = f.create_and_start(pod, pod_config, config);
  auto cgroup = cgroup_of(f, id);
  auto pid = f.pid_of(id);

  if (!v2_memory(cgroup)) {
    CHECK(control("memory", cgroup, "memory.limit_in_bytes") == std::to_string(64 << 20));
    CHECK(control("cpu", cgroup, "cpu.cfs_quota_us") == "50000");
    CHECK(control("cpu", cgroup, "cpu.cfs_period_us") == "100000");
    CHECK(control("cpu", cgroup, "cpu.shares") == "512");
    CHECK(control("cpuset", cgroup, "cpuset.cpus") == "0");
  } else {
    CHECK(control("memory", cgroup, "memory.max") == std::to_string(64 << 20));
    CHECK(control("cpu", cgroup, "cpu.max") == "50000 100000");
    CHECK(control("cpu", cgroup, "cpu.weight") == "20");
    CHECK(control("cpuset", cgroup, "cpuset.cpus") == "0");
  }
  // The process itself is bound by them: its cpus.
  CHECK_THAT(read_file("/proc/" + pid + "/status"), Catch::Contains("Cpus_allowed_list:\t0\n"));

  v1::UpdateContainerResourcesRequest update;
  update.set_container_id(id);
  update.mutable_linux()->set_memory_limit_in_bytes(128 << 20);
  update.mutable_linux()->set_cpu_quota(20000);
  v1::UpdateContainerResourcesResponse update_resp;
  auto st = f.client.runtime_call(&S::UpdateContainerResources, update, &update_resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  if (!v2_memory(cgroup)) {
    CHECK(control("memory", cgroup, "memory.limit_in_bytes") == std::to_string(128 << 20));
    CHECK(control("cpu", cgroup, "cpu.cfs_quota_us") == "20000");
    CHECK(control("cpu", cgroup, "cpu.shares") == "512");  // not in the update: kept
  } else {
    CHECK(control("memory", cgroup, "memory.max") == std::to_string(128 << 20));
    CHECK(control("cpu", cgroup, "cpu.max") == "20000 100000");
  }
  // ContainerStatus reports the limits as they are now.
  auto status = f.status(id).status();
  REQUIRE(status.has_resources());
  CHECK(status.resources().linux().memory_limit_in_bytes() == 128 << 20);
  CHECK(status.resources().linux().cpu_quota() == 20000);
  CHECK(status.resources().linux().cpu_shares() == 512);

  // Bad values are refused naming the field, and change nothing.
  update.mutable_linux()->set_memory_limit_in_bytes(-5);
  st = f.client.runtime_call(&S::UpdateContainerResources, update, &update_resp);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("memory_limit_in_bytes"));
  update.mutable_linux()->set_memory_limit_in_bytes(0);
  update.mutable_linux()->set_cpu_period(10);
  st = f.client.runtime_call(&S::UpdateContainerResources, update, &update_resp);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("cpu_period"));
  CHECK(memory_limit(cgroup) == std::to_string(128 << 20));

  // An exited container's resources cannot change.
  REQUIRE(f.stop(id, 0).ok());
  v1::UpdateContainerResourcesRequest late;
  late.set_container_id(id);
  late.mutable_linux()->set_memory_limit_in_bytes(256 << 20);
  st = f.client.runtime_call(&S::UpdateContainerResources, late, &update_resp);
  CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("resources: a container that allocates past its memory limit is OOMKilled") {
  runtime_fixture f;
  auto pod_config = f.pod_config("oom-limit");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto config = f.container_config("hog", {"sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=64"});
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(16 << 20);
  config.mutable_linux()->mutable_resources()->set_memory_swap_limit_in_bytes(16 << 20);
  auto id = f.create_and_start(pod, pod_config, config);
  auto s = f.wait_exited(id);
  CHECK(s.state() == v1::CONTAINER_EXITED);
  CHECK(s.reason() == "OOMKilled");
  CHECK(s.exit_code() == 137);
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("stats: cpu, memory, the writable layer and the pod's processes move when the container works") {
  runtime_fixture f;
  auto pod_config = f.pod_config("stats");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  // Holds ~24 MB in a shell variable, writes 8 MB into its rootfs, then
  // burns CPU.
  auto id = f.create_and_start(
      pod, pod_config,
      f.container_config("worker", {"sh", "-c",
                                    "x=$(head -c 24000000 /dev/zero | tr '\\0' a); "
                                    "dd if=/dev/zero of=/written bs=1M count=8 2>/dev/null; echo ready; "
                                    "while :; do :; done"}));
  f.wait_log(fs::path(pod_config.log_directory()) / "worker.log", "ready");

  auto wall_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const auto before = wall_ns();
  auto first = container_stats(f, id);
  const auto after = wall_ns();
  CHECK(first.attributes().id() == id);
  CHECK(first.attributes().metadata().name() == "worker");
  REQUIRE(first.has_cpu());
  REQUIRE(first.has_memory());
  // Read during the call.
  CHECK(first.cpu().timestamp() >= before);
  CHECK(first.cpu().timestamp() <= after);
  CHECK(first.memory().working_set_bytes().value() > 20'000'000);
  CHECK(first.memory().usage_bytes().value() >= first.memory().working_set_bytes().value());
  CHECK(first.memory().page_faults().value() > 0);
  CHECK(first.writable_layer().used_bytes().value() >= 8u << 20);
  CHECK(first.writable_layer().inodes_used().value() >= 2);

  // The busy loop's cpu time grows: sampled until it has (how fast is the
  // machine's business, not the test's). The rate is since the sample
  // before, which had the first one's usage.
  auto second = container_stats(f, id);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (second.cpu().usage_core_nano_seconds().value() <=
             first.cpu().usage_core_nano_seconds().value() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    second = container_stats(f, id);
  }
  CHECK(second.cpu().usage_core_nano_seconds().value() >
        first.cpu().usage_core_nano_seconds().value());
  REQUIRE(second.cpu().has_usage_nano_cores());  // a rate once there are two samples
  CHECK(second.cpu().usage_nano_cores().value() > 0);

  v1::ListContainerStatsResponse listed;
  REQUIRE(f.client.runtime_call(&S::ListContainerStats, v1::ListContainerStatsRequest{}, &listed).ok());
  REQUIRE(listed.stats_size() == 1);
  CHECK(listed.stats(0).attributes().id() == id);
  v1::ListContainerStatsRequest other_pod;
  other_pod.mutable_filter()->set_pod_sandbox_id("feedface");
  REQUIRE(f.client.runtime_call(&S::ListContainerStats, other_pod, &listed).ok());
  CHECK(listed.stats_size() == 0);

  v1::PodSandboxStatsRequest pod_req;
  pod_req.set_pod_sandbox_id(pod);
  v1::PodSandboxStatsResponse pod_resp;
  auto st = f.client.runtime_call(&S::PodSandboxStats, pod_req, &pod_resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  const auto& pod_stats = pod_resp.stats();
  CHECK(pod_stats.attributes().id() == pod);
  CHECK(pod_stats.linux().cpu().usage_core_nano_seconds().value() >= second.cpu().usage_core_nano_seconds().value());
  CHECK(pod_stats.linux().memory().working_set_bytes().value() > 20'000'000);
  CHECK(pod_stats.linux().process().process_count().value() >= 1);
  REQUIRE(pod_stats.linux().containers_size() == 1);
  CHECK(pod_stats.linux().containers(0).attributes().id() == id);
  CHECK(pod_stats.linux().has_network());  // a pod netns, loopback only here: no interface but lo

  v1::ListPodSandboxStatsResponse pods;
  REQUIRE(f.client.runtime_call(&S::ListPodSandboxStats, v1::ListPodSandboxStatsRequest{}, &pods).ok());
  REQUIRE(pods.stats_size() == 1);
  CHECK(pods.stats(0).attributes().id() == pod);

  v1::PodSandboxStatsRequest unknown;
  unknown.set_pod_sandbox_id("feedface");
  st = f.client.runtime_call(&S::PodSandboxStats, unknown, &pod_resp);
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK_THAT(st.error_message(), Catch::Contains("feedface"));

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("cgroup drivers: systemd slices become cgroup paths; a parent the driver cannot take is refused") {
  temp_dir conf{"ringcri-systemd"};
  fs::create_directories(conf.path() / "net.d");
  std::ofstream(conf.path() / "ringcri.toml") << "cgroup_driver = \"systemd\"\n[cni]\nconf_dir = \""
                                              << (conf.path() / "net.d").string() << "\"\n";
  runtime_fixture f({"--config", (conf.path() / "ringcri.toml").string()});

  auto pod_config = f.pod_config("sliced");
  pod_config.mutable_linux()->set_cgroup_parent("ringcritest-burstable-podabc.slice");
  std::string pod;
  auto st = f.run_pod(pod_config, &pod);
  INFO(st.error_message());
  REQUIRE(st.ok());
  auto config = f.container_config("scoped", {"sleep", "300"});
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(32 << 20);
  auto id = f.create_and_start(pod, pod_config, config);
  auto cgroup = cgroup_of(f, id);
  CHECK(cgroup == "/ringcritest.slice/ringcritest-burstable.slice/ringcritest-burstable-podabc.slice/ringcri-" + id +
                      ".scope");
  auto procs = cgroup_file("memory", cgroup, "cgroup.procs");
  REQUIRE_FALSE(procs.empty());
  CHECK_THAT(read_file(procs), Catch::Contains(f.pid_of(id) + "\n"));
  CHECK(memory_limit(cgroup) == std::to_string(32 << 20));

  // A cgroupfs path is no slice; a slice is no cgroupfs path.
  auto bad = f.pod_config("unsliced");
  bad.mutable_linux()->set_cgroup_parent("/kubepods/burstable");
  std::string bad_id;
  st = f.run_pod(bad, &bad_id);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("/kubepods/burstable"));

  f.remove_pod(pod);
  // The parent slices were made for the pod and are the test's to remove.
  for (const auto& m : fs::directory_iterator("/sys/fs/cgroup")) {
    fs::path top = m.path() / "ringcritest.slice";
    std::error_code ec;
    if (!fs::exists(top, ec)) continue;
    ::rmdir((top / "ringcritest-burstable.slice/ringcritest-burstable-podabc.slice").c_str());
    ::rmdir((top / "ringcritest-burstable.slice").c_str());
    ::rmdir(top.c_str());
  }
  CHECK(cgroups_named("ringcritest.slice").empty());
  f.check_nothing_left();
}

TEST_CASE("cgroupfs driver: a slice as cgroup parent is refused naming it") {
  runtime_fixture f;
  auto bad = f.pod_config("sliced");
  bad.mutable_linux()->set_cgroup_parent("kubepods-burstable.slice");
  std::string id;
  auto st = f.run_pod(bad, &id);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("kubepods-burstable.slice"));
  f.check_nothing_left();
}

namespace {

// A daemon config with `settings` and an empty CNI dir (no node network).
struct daemon_config {
  temp_dir dir{"ringcri-conf"};
  explicit daemon_config(const std::string& settings) {
    fs::create_directories(dir.path() / "net.d");
    std::ofstream(dir.path() / "ringcri.toml")
        << settings << "\n[cni]\nconf_dir = \"" << (dir.path() / "net.d").string() << "\"\n";
  }
  std::vector<std::string> flags() const {
    return {"--config", (dir.path() / "ringcri.toml").string()};
  }
};

// The highest memory node the node has online ("0-1" -> "1").
std::string last_memory_node() {
  auto online = trimmed(read_file("/sys/devices/system/node/online"));
  if (online.empty()) return "0";
  auto cut = online.find_last_of("-,");
  return cut == std::string::npos ? online : online.substr(cut + 1);
}

// Whether a cgroup2 hierarchy is mounted (pure v2, or hybrid's unified).
bool has_cgroup2() {
  for (const auto& line : mounts_under(" - cgroup2 "))
    if (line.find(" /sys/fs/cgroup") != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE(
    "resources: memory+swap, cpuset mems and the daemon's pids_limit reach the cgroup files") {
  daemon_config conf("pids_limit = 99");
  runtime_fixture f(conf.flags());
  auto pod_config = f.pod_config("more-limits");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());

  // A memory node the node does not have is refused by the kernel: mems
  // are written, not dropped.
  const auto node = last_memory_node();
  auto absent = f.container_config("no-such-node", {"sleep", "300"});
  absent.mutable_linux()->mutable_resources()->set_cpuset_mems(std::to_string(std::stoi(node) + 1));
  std::string absent_id;
  auto st = f.create(pod, pod_config, absent, &absent_id);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.error_message(), Catch::Contains("cpuset.mems"));

  auto config = f.container_config("more-limited", {"sleep", "300"});
  auto* r = config.mutable_linux()->mutable_resources();
  r->set_memory_limit_in_bytes(64 << 20);
  r->set_memory_swap_limit_in_bytes(96 << 20);
  r->set_cpuset_mems(node);
  auto id = f.create_and_start(pod, pod_config, config);
  auto cgroup = cgroup_of(f, id);

  CHECK(control("cpuset", cgroup, "cpuset.mems") == node);
  CHECK(control("pids", cgroup, "pids.max") == "99");
  CHECK(memory_limit(cgroup) == std::to_string(64 << 20));
  bool swap_checked = true;
  if (v2_memory(cgroup)) {
    swap_checked = !cgroup_file("memory", cgroup, "memory.swap.max").empty();
    if (swap_checked)
      CHECK(control("memory", cgroup, "memory.swap.max") == std::to_string(32 << 20));
  } else {
    swap_checked = !cgroup_file("memory", cgroup, "memory.memsw.limit_in_bytes").empty();
    if (swap_checked)
      CHECK(control("memory", cgroup, "memory.memsw.limit_in_bytes") == std::to_string(96 << 20));
  }

  // Raised live: memory+swap goes up with memory.
  v1::UpdateContainerResourcesRequest update;
  update.set_container_id(id);
  update.mutable_linux()->set_memory_limit_in_bytes(128 << 20);
  update.mutable_linux()->set_memory_swap_limit_in_bytes(192 << 20);
  v1::UpdateContainerResourcesResponse update_resp;
  st = f.client.runtime_call(&S::UpdateContainerResources, update, &update_resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK(memory_limit(cgroup) == std::to_string(128 << 20));
  if (swap_checked) {
    if (v2_memory(cgroup))
      CHECK(control("memory", cgroup, "memory.swap.max") == std::to_string(64 << 20));
    else
      CHECK(control("memory", cgroup, "memory.memsw.limit_in_bytes") == std::to_string(192 << 20));
  }
  auto status = f.status(id).status();
  REQUIRE(status.has_resources());
  CHECK(status.resources().linux().cpuset_mems() == node);

  f.remove_pod(pod);
  f.check_nothing_left();
  if (!swap_checked)
    skip_case("memory+swap: the kernel has no swap accounting (no memsw / memory.swap.max file)");
}

TEST_CASE("resources: hugepage limits reach the hugetlb controller") {
  if (!fs::exists("/sys/kernel/mm/hugepages/hugepages-2048kB") ||
      read_file("/proc/cgroups").find("\nhugetlb\t") == std::string::npos) {
    skip_case("hugepage limits: the node has no hugetlb controller or no 2 MB hugepages");
    return;
  }
  runtime_fixture f;
  auto pod_config = f.pod_config("huge");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto config = f.container_config("huge", {"sleep", "300"});
  auto* limit = config.mutable_linux()->mutable_resources()->add_hugepage_limits();
  limit->set_page_size("2MB");
  limit->set_limit(4 << 20);
  auto id = f.create_and_start(pod, pod_config, config);
  auto cgroup = cgroup_of(f, id);
  auto v1_file = cgroup_file("hugetlb", cgroup, "hugetlb.2MB.limit_in_bytes");
  auto v2_file = cgroup_file("hugetlb", cgroup, "hugetlb.2MB.max");
  REQUIRE_FALSE((v1_file.empty() && v2_file.empty()));
  CHECK(trimmed(read_file(v1_file.empty() ? v2_file : v1_file)) == std::to_string(4 << 20));
  // A page size the kernel lacks is refused naming it.
  auto odd = f.container_config("odd-huge", {"sleep", "300"});
  auto* odd_limit = odd.mutable_linux()->mutable_resources()->add_hugepage_limits();
  odd_limit->set_page_size("64KB");
  odd_limit->set_limit(1 << 20);
  std::string odd_id;
  auto st = f.create(pod, pod_config, odd, &odd_id);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("64KB"));
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("resources: unified files are written into the cgroup v2 hierarchy") {
  if (!has_cgroup2()) {
    skip_case("unified: the node has no cgroup v2 hierarchy");
    return;
  }
  runtime_fixture f;
  auto pod_config = f.pod_config("unified");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto config = f.container_config("unified", {"sleep", "300"});
  (*config.mutable_linux()->mutable_resources()->mutable_unified())["cgroup.max.descendants"] = "7";
  auto id = f.create_and_start(pod, pod_config, config);
  auto cgroup = cgroup_of(f, id);
  auto file = cgroup_file("unified", cgroup, "cgroup.max.descendants");
  REQUIRE_FALSE(file.empty());
  CHECK(trimmed(read_file(file)) == "7");
  // A name that is not a file of the cgroup's is refused naming it.
  auto bad = f.container_config("bad-unified", {"sleep", "300"});
  (*bad.mutable_linux()->mutable_resources()->mutable_unified())["../escape"] = "1";
  std::string bad_id;
  auto st = f.create(pod, pod_config, bad, &bad_id);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("../escape"));
  f.remove_pod(pod);
  f.check_nothing_left();
}
