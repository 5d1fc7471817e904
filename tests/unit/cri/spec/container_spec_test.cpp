// build_container_spec end to end: every part lands in the spec, users come
// from the image's layers, devices from the host, privileged rules, and
// build_exec_spec.

#include "cri/spec/container_spec.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <climits>
#include <filesystem>
#include <fstream>

#include "cri/spec/exec_spec.hpp"
#include "cri/spec/masked_paths.hpp"
#include "exec/spec_json.hpp"
#include "unit/exec/users/layer_dirs.hpp"

using namespace ringcri::cri::spec;
using ringcri::error_kind;
using ringcri::test::layer_dirs;
using json = nlohmann::json;
using strings = std::vector<std::string>;

namespace {

struct fixture {
  layer_dirs layers{2};
  runtime::v1::ContainerConfig config;
  runtime::v1::PodSandboxConfig sandbox;
  json image = {{"config",
                 {{"Entrypoint", {"/bin/app"}},
                  {"Cmd", {"--serve"}},
                  {"Env", {"APP=1"}},
                  {"WorkingDir", "/srv"},
                  {"User", "app"}}}};

  fixture() {
    layers.file(1, "/etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/srv:/bin/sh\n");
    layers.file(1, "/etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app\n");
    config.mutable_metadata()->set_name("web");
    // kubelet's default; CRI's zero value (POD) needs a pod that shares one.
    config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
        runtime::v1::CONTAINER);
    sandbox.set_hostname("pod-a");
  }

  container_inputs inputs() const {
    container_inputs in{config, sandbox, image};
    in.container_id = std::string(64, 'c');
    in.layers = layers.layers();
    in.upper = "/var/lib/ringcri/c/upper";
    in.work = "/var/lib/ringcri/c/work";
    in.rootfs_target = "/run/ringcri/c/rootfs";
    in.pod.net_ns = "/run/ringcri/pods/p/ns/net";
    in.pod.ipc_ns = "/run/ringcri/pods/p/ns/ipc";
    in.pod.uts_ns = "/run/ringcri/pods/p/ns/uts";
    in.cgroup_procs = {"/sys/fs/cgroup/memory/kubepods/c/cgroup.procs"};
    in.cgroup_path = "/kubepods/c";
    in.log_path = "/var/log/pods/p/web/0.log";
    in.exit_path = "/run/ringcri/c/exit";
    return in;
  }
};

runtime::v1::LinuxContainerSecurityContext& sc(fixture& f) {
  return *f.config.mutable_linux()->mutable_security_context();
}

}  // namespace

TEST_CASE("a plain container: every part in its place", "[container_spec]") {
  fixture f;
  f.config.set_stdin(true);
  f.config.set_tty(true);
  f.config.mutable_linux()->mutable_resources()->set_oom_score_adj(500);
  (*f.sandbox.mutable_linux()->mutable_sysctls())["net.ipv4.ip_forward"] = "1";
  (*f.sandbox.mutable_linux()->mutable_sysctls())["kernel.shm_rmid_forced"] = "1";
  auto s = build_container_spec(f.inputs());
  REQUIRE(s);
  CHECK(s->id == std::string(64, 'c'));
  CHECK(s->process.args == strings{"/bin/app", "--serve"});
  CHECK(s->process.env ==
        strings{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOSTNAME=pod-a", "APP=1"});
  CHECK(s->process.cwd == "/srv");
  CHECK(s->process.user.uid == 1000);
  CHECK(s->process.user.gid == 1000);
  CHECK(s->process.user.additional_gids == std::vector<std::uint32_t>{50, 1000});
  CHECK(s->process.capabilities.bounding.size() == 14);
  CHECK(!s->process.no_new_privileges);
  CHECK(s->process.rlimits.empty());
  CHECK(s->process.oom_score_adj == 500);
  CHECK(!s->process.seccomp);
  CHECK(s->process.terminal);
  CHECK(s->rootfs.lowers == f.layers.layers());
  CHECK(s->rootfs.upper == "/var/lib/ringcri/c/upper");
  CHECK(s->rootfs.work == "/var/lib/ringcri/c/work");
  CHECK(s->rootfs.target == "/run/ringcri/c/rootfs");
  CHECK(!s->rootfs.readonly);
  CHECK(s->hostname.empty());
  CHECK(s->mounts.size() == 7);
  CHECK(s->devices.size() == 6);
  CHECK(s->masked_paths.empty());  // none asked for: none, as under containerd
  CHECK(s->readonly_paths.empty());
  CHECK(s->namespaces.size() == 6);
  CHECK(s->cgroup_procs == strings{"/sys/fs/cgroup/memory/kubepods/c/cgroup.procs"});
  CHECK(s->cgroup_path == "/kubepods/c");
  CHECK(s->sysctls == std::vector<std::pair<std::string, std::string>>{
                          {"kernel.shm_rmid_forced", "1"}, {"net.ipv4.ip_forward", "1"}});
  CHECK(s->log_path == "/var/log/pods/p/web/0.log");
  CHECK(s->exit_path == "/run/ringcri/c/exit");
  CHECK(s->stdin_open);
  // It survives the trip to the keeper.
  CHECK(json(*s).get<ringcri::exec::container_spec>().process.args == s->process.args);
}

TEST_CASE("no oom_score_adj unless resources are given", "[container_spec]") {
  fixture f;
  auto s = build_container_spec(f.inputs());
  REQUIRE(s);
  CHECK(!s->process.oom_score_adj);
}

TEST_CASE("a pod without a hostname gives the node's to HOSTNAME", "[container_spec]") {
  fixture f;
  f.sandbox.clear_hostname();
  char host[HOST_NAME_MAX + 1] = {};
  REQUIRE(::gethostname(host, sizeof host - 1) == 0);
  auto s = build_container_spec(f.inputs());
  REQUIRE(s);
  CHECK(s->process.env[1] == std::string("HOSTNAME=") + host);
}

TEST_CASE("security context fields reach the spec", "[container_spec]") {
  fixture f;
  sc(f).set_readonly_rootfs(true);
  sc(f).set_no_new_privs(true);
  sc(f).mutable_run_as_user()->set_value(0);
  sc(f).add_supplemental_groups(7);
  for (const auto& p : kubelet_default_masked_paths()) sc(f).add_masked_paths(p);
  for (const auto& p : kubelet_default_readonly_paths()) sc(f).add_readonly_paths(p);
  sc(f).mutable_capabilities()->add_drop_capabilities("ALL");
  auto s = build_container_spec(f.inputs());
  REQUIRE(s);
  CHECK(s->rootfs.readonly);
  CHECK(s->process.no_new_privileges);
  CHECK(s->process.user.uid == 0);  // run_as_user 0 replaces the image's "app"
  CHECK(s->process.user.additional_gids == std::vector<std::uint32_t>{0, 7});
  CHECK(s->masked_paths == kubelet_default_masked_paths());
  CHECK(s->readonly_paths == kubelet_default_readonly_paths());
  CHECK(std::find(s->masked_paths.begin(), s->masked_paths.end(), "/proc/kcore") !=
        s->masked_paths.end());
  CHECK(s->process.capabilities.bounding.empty());
}

TEST_CASE("privileged: all caps, nothing masked, writable /sys; only in a privileged pod",
          "[container_spec]") {
  fixture f;
  sc(f).set_privileged(true);
  for (const auto& p : kubelet_default_masked_paths()) sc(f).add_masked_paths(p);
  auto refused = build_container_spec(f.inputs());
  REQUIRE(!refused);
  CHECK(refused.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(refused.error().message(), Catch::Contains("web") && Catch::Contains("privileged"));

  f.sandbox.mutable_linux()->mutable_security_context()->set_privileged(true);
  auto s = build_container_spec(f.inputs());
  REQUIRE(s);
  CHECK(s->process.capabilities.bounding.size() > 14);
  CHECK(s->masked_paths.empty());
  CHECK(s->readonly_paths.empty());
  auto sys = std::find_if(s->mounts.begin(), s->mounts.end(),
                          [](const auto& m) { return m.destination == "/sys"; });
  REQUIRE(sys != s->mounts.end());
  CHECK(std::find(sys->options.begin(), sys->options.end(), "ro") == sys->options.end());
}

TEST_CASE("request devices come from the host node", "[container_spec]") {
  fixture f;
  struct stat host_null {};
  REQUIRE(::stat("/dev/null", &host_null) == 0);
  auto* d = f.config.add_devices();
  d->set_host_path("/dev/null");
  d->set_container_path("/dev/mynull");
  d->set_permissions("rwm");
  auto s = build_container_spec(f.inputs());
  REQUIRE(s);
  REQUIRE(s->devices.size() == 7);
  const auto& mine = s->devices.back();
  CHECK(mine.path == "/dev/mynull");
  CHECK(mine.type == 'c');
  CHECK(mine.major == 1);
  CHECK(mine.minor == 3);
  CHECK(mine.mode == (host_null.st_mode & 07777));
  CHECK(s->devices[0].path == "/dev/null");
  CHECK(s->devices[5].path == "/dev/tty");
  CHECK(s->devices[5].major == 5);
  CHECK(s->devices[5].mode == 0666);
}

TEST_CASE("a request device on a standard path replaces it", "[container_spec]") {
  fixture f;
  auto* d = f.config.add_devices();
  d->set_host_path("/dev/zero");
  d->set_container_path("/dev/null");
  auto s = build_container_spec(f.inputs());
  REQUIRE(s);
  REQUIRE(s->devices.size() == 6);
  auto n = std::count_if(s->devices.begin(), s->devices.end(),
                         [](const auto& dev) { return dev.path == "/dev/null"; });
  CHECK(n == 1);
  CHECK(s->devices.back().path == "/dev/null");
  CHECK(s->devices.back().minor == 5);
}

TEST_CASE("a missing device is an error naming it", "[container_spec]") {
  fixture f;
  auto* d = f.config.add_devices();
  d->set_host_path("/dev/ringcri-no-such-device");
  d->set_container_path("/dev/x");
  auto s = build_container_spec(f.inputs());
  REQUIRE(!s);
  CHECK(s.error().kind() == error_kind::not_found);
  CHECK_THAT(s.error().message(), Catch::Contains("/dev/ringcri-no-such-device"));
}

TEST_CASE("a device path that is a plain file is refused", "[container_spec]") {
  fixture f;
  auto* d = f.config.add_devices();
  d->set_host_path(f.layers.path(1, "/etc/passwd"));
  auto s = build_container_spec(f.inputs());
  REQUIRE(!s);
  CHECK(s.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(s.error().message(), Catch::Contains("not a device"));
}

TEST_CASE("errors name the container and what is at fault", "[container_spec]") {
  SECTION("unknown image user") {
    fixture f;
    f.image["config"]["User"] = "ghost";
    auto s = build_container_spec(f.inputs());
    REQUIRE(!s);
    CHECK_THAT(s.error().message(), Catch::Contains("\"web\"") && Catch::Contains("ghost") &&
                                        Catch::Contains("/etc/passwd"));
  }
  SECTION("negative run_as_user") {
    fixture f;
    sc(f).mutable_run_as_user()->set_value(-1);
    auto s = build_container_spec(f.inputs());
    REQUIRE(!s);
    CHECK(s.error().kind() == error_kind::invalid_argument);
  }
  SECTION("nothing to run") {
    fixture f;
    f.image["config"].erase("Entrypoint");
    f.image["config"].erase("Cmd");
    auto s = build_container_spec(f.inputs());
    REQUIRE(!s);
    CHECK_THAT(s.error().message(), Catch::Contains("no command specified"));
  }
  SECTION("unknown capability") {
    fixture f;
    sc(f).mutable_capabilities()->add_add_capabilities("CAP_WARP");
    auto s = build_container_spec(f.inputs());
    REQUIRE(!s);
    CHECK_THAT(s.error().message(), Catch::Contains("CAP_WARP"));
  }
  SECTION("missing mount host path") {
    fixture f;
    auto* m = f.config.add_mounts();
    m->set_container_path("/data");
    m->set_host_path("/nonexistent/ringcri/data");
    auto s = build_container_spec(f.inputs());
    REQUIRE(!s);
    CHECK(s.error().kind() == error_kind::not_found);
    CHECK_THAT(s.error().message(), Catch::Contains("/nonexistent/ringcri/data"));
  }
}

TEST_CASE("build_exec_spec: the container's process with another argv", "[exec_spec]") {
  fixture f;
  auto s = build_container_spec(f.inputs());
  REQUIRE(s);
  s->process.terminal = true;
  auto e = build_exec_spec(*s, {"/bin/sh", "-c", "echo hi"});
  REQUIRE(e);
  CHECK(e->container_id == s->id);
  CHECK(e->process.args == strings{"/bin/sh", "-c", "echo hi"});
  CHECK(e->process.env == s->process.env);
  CHECK(e->process.cwd == s->process.cwd);
  CHECK(e->process.user.uid == s->process.user.uid);
  CHECK(e->process.capabilities.bounding == s->process.capabilities.bounding);
  CHECK(!e->process.terminal);
  CHECK(e->cgroup_procs == s->cgroup_procs);
  auto none = build_exec_spec(*s, {});
  REQUIRE(!none);
  CHECK(none.error().kind() == error_kind::invalid_argument);
}
