// The security context as the process sees it, checked from outside
// through /proc: capabilities added and dropped (with and without the CAP_
// prefix, ALL), no_new_privs, masked and read-only paths, and a privileged
// container's devices, capabilities, seccomp and /sys. Supplemental groups
// by policy, and the AppArmor profiles a node without AppArmor accepts.

#include <sys/sysmacros.h>

#include "support/runtime_fixture.hpp"

using namespace ringcri::testing;

namespace {

// The hex mask of a "CapEff:" style line of /proc/PID/status.
std::uint64_t status_mask(const std::string& status, const std::string& key) {
  auto at = status.find(key + ":\t");
  REQUIRE(at != std::string::npos);
  return std::stoull(status.substr(at + key.size() + 2, 16), nullptr, 16);
}

std::string status_value(const std::string& status, const std::string& key) {
  auto at = status.find(key + ":\t");
  REQUIRE(at != std::string::npos);
  auto end = status.find('\n', at);
  return status.substr(at + key.size() + 2, end - at - key.size() - 2);
}

constexpr std::uint64_t bit(int cap) { return 1ULL << cap; }
constexpr int cap_chown = 0, cap_net_raw = 13, cap_sys_admin = 21, cap_sys_time = 25, cap_net_admin = 12,
              cap_kill = 5;

}  // namespace

TEST_CASE("security context: capabilities, no_new_privs and masked paths are what the process has") {
  runtime_fixture f;
  auto pod_config = f.pod_config("secure");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());

  // Drop two of the defaults, add one with and one without the prefix.
  auto config = f.container_config("caps", {"sleep", "300"});
  auto* sc = config.mutable_linux()->mutable_security_context();
  sc->mutable_capabilities()->add_drop_capabilities("CAP_CHOWN");
  sc->mutable_capabilities()->add_drop_capabilities("NET_RAW");
  sc->mutable_capabilities()->add_add_capabilities("CAP_SYS_TIME");
  sc->mutable_capabilities()->add_add_capabilities("NET_ADMIN");
  sc->set_no_new_privs(true);
  sc->add_masked_paths("/proc/timer_list");
  sc->add_readonly_paths("/proc/sys");
  auto id = f.create_and_start(pod, pod_config, config);
  auto status = read_file("/proc/" + f.pid_of(id) + "/status");
  auto eff = status_mask(status, "CapEff");
  CHECK_FALSE(eff & bit(cap_chown));
  CHECK_FALSE(eff & bit(cap_net_raw));
  CHECK(eff & bit(cap_sys_time));
  CHECK(eff & bit(cap_net_admin));
  CHECK(eff & bit(cap_kill));  // a default kept
  CHECK_FALSE(eff & bit(cap_sys_admin));
  CHECK(status_mask(status, "CapBnd") == eff);
  CHECK(status_value(status, "NoNewPrivs") == "1");
  grpc::Status st;
  auto masked = f.exec(id, {"sh", "-c", "wc -c < /proc/timer_list; (echo x > /proc/sys/kernel/hostname) 2>&1; echo done"}, &st);
  REQUIRE(st.ok());
  CHECK_THAT(masked.stdout(), Catch::StartsWith("0\n"));
  CHECK_THAT(masked.stdout(), Catch::Contains("Read-only file system"));

  // The device rules (the v1 devices cgroup, and the BPF device program on
  // a unified hierarchy) let it make a node but not use one it was not
  // given: mknod works (CAP_MKNOD), opening the kernel log's node does not,
  // /dev/null does. escapes_test checks each mechanism alone.
  auto nodes = f.exec(id,
                      {"sh", "-c",
                       "mknod /kmsg c 1 11 && echo made; head -c 1 /kmsg 2>&1; "
                       "echo x > /dev/null && echo null-ok"},
                      &st);
  REQUIRE(st.ok());
  CHECK_THAT(nodes.stdout(), Catch::Contains("made") &&
                                 Catch::Contains("Operation not permitted") &&
                                 Catch::Contains("null-ok"));

  // Drop ALL, add one back.
  auto minimal = f.container_config("minimal", {"sleep", "300"});
  minimal.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_drop_capabilities("ALL");
  minimal.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_add_capabilities("KILL");
  auto min_id = f.create_and_start(pod, pod_config, minimal);
  CHECK(status_mask(read_file("/proc/" + f.pid_of(min_id) + "/status"), "CapEff") == bit(cap_kill));

  // An unknown name is refused, naming it.
  auto unknown = f.container_config("unknown", {"sleep", "300"});
  unknown.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_add_capabilities("CAP_FLY");
  std::string unknown_id;
  st = f.create(pod, pod_config, unknown, &unknown_id);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("CAP_FLY"));

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("privileged: every capability and host device, no seccomp, a writable /sys") {
  runtime_fixture f;
  auto pod_config = f.pod_config("privileged");
  pod_config.mutable_linux()->mutable_security_context()->set_privileged(true);
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto config = f.container_config("root", {"sleep", "300"});
  config.mutable_linux()->mutable_security_context()->set_privileged(true);
  config.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      v1::SecurityProfile::RuntimeDefault);  // ignored for a privileged container
  auto id = f.create_and_start(pod, pod_config, config);
  auto pid = f.pid_of(id);
  auto status = read_file("/proc/" + pid + "/status");
  auto host_bounding = status_mask(read_file("/proc/self/status"), "CapBnd");
  CHECK(status_mask(status, "CapEff") == host_bounding);
  CHECK(status_value(status, "Seccomp") == "0");

  // A host device no ordinary container has, with the host's numbers.
  const char* host_device = fs::exists("/dev/loop-control") ? "/dev/loop-control" : "/dev/kmsg";
  struct stat host {}, inside {};
  REQUIRE(::stat(host_device, &host) == 0);
  REQUIRE(::stat((fs::path("/proc") / pid / "root" / fs::path(host_device).relative_path()).c_str(), &inside) == 0);
  CHECK(inside.st_rdev == host.st_rdev);
  grpc::Status st;
  auto kmsg = f.exec(id, {"sh", "-c", "mknod /kmsg c 1 11 && head -c 1 /kmsg >/dev/null && echo read"}, &st);
  REQUIRE(st.ok());
  CHECK(kmsg.stdout() == "read\n");
  auto sys = f.exec(id, {"sh", "-c", "grep ' /sys ' /proc/self/mounts"}, &st);
  REQUIRE(st.ok());
  CHECK_THAT(sys.stdout(), Catch::Contains("sysfs rw,"));

  // The same request in an ordinary pod is refused.
  auto plain_pod_config = f.pod_config("plain");
  std::string plain_pod;
  REQUIRE(f.run_pod(plain_pod_config, &plain_pod).ok());
  std::string refused;
  st = f.create(plain_pod, plain_pod_config, config, &refused);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("privileged"));
  // And an ordinary container has none of the host's other devices.
  auto plain = f.create_and_start(plain_pod, plain_pod_config, f.container_config("plain", {"sleep", "300"}));
  CHECK_FALSE(fs::exists(fs::path("/proc") / f.pid_of(plain) / "root" / fs::path(host_device).relative_path()));

  f.remove_pod(pod);
  f.remove_pod(plain_pod);
  f.check_nothing_left();
}

namespace {

// The numbers of a "Groups:" line of /proc/PID/status (or of `id -G`).
std::vector<std::int64_t> group_list(const std::string& text) {
  std::vector<std::int64_t> out;
  std::istringstream in(text);
  for (std::int64_t g; in >> g;) out.push_back(g);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::int64_t> reported_groups(const v1::ContainerStatus& s) {
  std::vector<std::int64_t> out(s.user().linux().supplemental_groups().begin(),
                                s.user().linux().supplemental_groups().end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE(
    "SupplementalGroupsPolicy: Strict leaves out the image's groups, Merge adds them; status says "
    "so") {
  runtime_fixture f;
  f.pull(groups_image());
  v1::StatusResponse status;
  REQUIRE(f.client.runtime_call(&S::Status, v1::StatusRequest{}, &status).ok());
  CHECK(status.features().supplemental_groups_policy());

  auto pod_config = f.pod_config("groups");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto with_policy = [&](const std::string& name, v1::SupplementalGroupsPolicy policy) {
    auto config = f.container_config(name, {"sleep", "1000"}, groups_image());
    auto* sc = config.mutable_linux()->mutable_security_context();
    sc->mutable_run_as_user()->set_value(1000);
    sc->add_supplemental_groups(1234);
    sc->set_supplemental_groups_policy(policy);
    return f.create_and_start(pod, pod_config, config);
  };
  const auto strict = with_policy("strict", v1::Strict);
  const auto merge = with_policy("merge", v1::Merge);
  const std::vector<std::int64_t> strict_groups{1000, 1234}, merge_groups{1000, 1234, 50000, 50001};

  auto groups_of = [&](const std::string& id) {
    return group_list(status_value(read_file("/proc/" + f.pid_of(id) + "/status"), "Groups"));
  };
  CHECK(groups_of(strict) == strict_groups);
  CHECK(groups_of(merge) == merge_groups);
  // What an exec gets too.
  grpc::Status st;
  auto id_g = f.exec(strict, {"id", "-G"}, &st);
  REQUIRE(st.ok());
  CHECK(group_list(id_g.stdout()) == strict_groups);
  id_g = f.exec(merge, {"id", "-G"}, &st);
  REQUIRE(st.ok());
  CHECK(group_list(id_g.stdout()) == merge_groups);

  auto check_reported = [&] {
    for (const auto& [id, groups] :
         {std::pair{strict, strict_groups}, std::pair{merge, merge_groups}}) {
      auto s = f.status(id).status();
      REQUIRE(s.has_user());
      CHECK(s.user().linux().uid() == 1000);
      CHECK(s.user().linux().gid() == 1000);
      CHECK(reported_groups(s) == groups);
    }
  };
  check_reported();
  // Kept in the record: a daemon killed and started again reports the same.
  f.daemon.kill();
  f.daemon.restart();
  f.client.reconnect();
  check_reported();

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE(
    "AppArmor: runtime/default and unconfined run, a localhost profile is refused naming it") {
  runtime_fixture f;
  auto pod_config = f.pod_config("apparmor");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());

  auto runs = [&](const std::string& name, auto set) {
    auto config = f.container_config(name, {"sleep", "1000"});
    set(*config.mutable_linux()->mutable_security_context());
    std::string id;
    auto st = f.create(pod, pod_config, config, &id);
    INFO(name << ": " << st.error_message());
    CHECK(st.ok());
  };
  runs("default", [](v1::LinuxContainerSecurityContext& sc) {
    sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  });
  runs("unconfined", [](v1::LinuxContainerSecurityContext& sc) {
    sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Unconfined);
  });
  runs("old-default", [](v1::LinuxContainerSecurityContext& sc) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    sc.set_apparmor_profile("runtime/default");
#pragma GCC diagnostic pop
  });

  auto refused = [&](const std::string& name, auto set, const std::string& profile) {
    auto config = f.container_config(name, {"sleep", "1000"});
    set(*config.mutable_linux()->mutable_security_context());
    std::string id;
    auto st = f.create(pod, pod_config, config, &id);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(st.error_message(), Catch::Contains(profile));
  };
  refused(
      "localhost",
      [](v1::LinuxContainerSecurityContext& sc) {
        sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Localhost);
        sc.mutable_apparmor()->set_localhost_ref("k8s-example");
      },
      "localhost/k8s-example");
  refused(
      "old-localhost",
      [](v1::LinuxContainerSecurityContext& sc) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        sc.set_apparmor_profile("localhost/k8s-old");
#pragma GCC diagnostic pop
      },
      "localhost/k8s-old");
  CHECK(f.container_count() == 3);

  // A pod asking for one is refused before anything is made.
  auto localhost_pod = f.pod_config("apparmor-pod");
  auto* profile = localhost_pod.mutable_linux()->mutable_security_context()->mutable_apparmor();
  profile->set_profile_type(v1::SecurityProfile::Localhost);
  profile->set_localhost_ref("k8s-pod");
  std::string refused_pod;
  auto st = f.run_pod(localhost_pod, &refused_pod);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("localhost/k8s-pod"));
  v1::ListPodSandboxResponse pods;
  REQUIRE(f.client.runtime_call(&S::ListPodSandbox, v1::ListPodSandboxRequest{}, &pods).ok());
  CHECK(pods.items_size() == 1);

  f.remove_pod(pod);
  f.check_nothing_left();
}
