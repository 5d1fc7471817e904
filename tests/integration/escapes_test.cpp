// Escapes tried from inside real pods, each expected to fail: the pod's
// init as a way to the host, a process of ours in the pod with more power
// than its spec, device nodes of the host, and processes left running
// after a pod without its own pid namespace is removed.

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <set>

#include "base/unique_fd.hpp"
#include "support/processes.hpp"
#include "support/runtime_fixture.hpp"

using namespace ringcri::testing;
using ringcri::unique_fd;

namespace {

std::string status_value(const std::string& status, const std::string& key) {
  auto at = status.find(key + ":\t");
  if (at == std::string::npos) return "";
  auto end = status.find('\n', at);
  return status.substr(at + key.size() + 2, end - at - key.size() - 2);
}

std::uint64_t mask(const std::string& hex) { return hex.empty() ? ~0ULL : std::stoull(hex, nullptr, 16); }

constexpr std::uint64_t bit(int cap) { return 1ULL << cap; }
constexpr int cap_chown = 0, cap_sys_ptrace = 19;

v1::PodSandboxConfig shared_pid(v1::PodSandboxConfig c) {
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  return c;
}

v1::ContainerConfig in_pod_pid(v1::ContainerConfig c) {
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  return c;
}

// How many BPF device programs are attached to the cgroup v2 directory.
int device_programs_at(const fs::path& dir) {
  unique_fd cg(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg) return -1;
  std::uint32_t ids[16] = {};
  bpf_attr attr{};
  attr.query.target_fd = static_cast<std::uint32_t>(cg.get());
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<std::uint64_t>(ids);
  attr.query.prog_cnt = 16;
  if (::syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof attr) != 0) return -1;
  return static_cast<int>(attr.query.prog_cnt);
}

// Detaches every device program from the cgroup v2 directory.
void detach_device_programs(const fs::path& dir) {
  unique_fd cg(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(cg);
  std::uint32_t ids[16] = {};
  bpf_attr attr{};
  attr.query.target_fd = static_cast<std::uint32_t>(cg.get());
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<std::uint64_t>(ids);
  attr.query.prog_cnt = 16;
  REQUIRE(::syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof attr) == 0);
  for (std::uint32_t i = 0; i < attr.query.prog_cnt; ++i) {
    bpf_attr by_id{};
    by_id.prog_id = ids[i];
    unique_fd prog(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &by_id, sizeof by_id)));
    REQUIRE(prog);
    bpf_attr detach{};
    detach.target_fd = static_cast<std::uint32_t>(cg.get());
    detach.attach_bpf_fd = static_cast<std::uint32_t>(prog.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    REQUIRE(::syscall(SYS_bpf, BPF_PROG_DETACH, &detach, sizeof detach) == 0);
  }
}


}  // namespace

TEST_CASE("the pod's init is no way to the host, even with CAP_SYS_PTRACE") {
  runtime_fixture f;
  auto pod_config = shared_pid(f.pod_config("init-root"));
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto config = in_pod_pid(f.container_config("tracer", {"sleep", "300"}));
  config.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_add_capabilities(
      "SYS_PTRACE");
  auto id = f.create_and_start(pod, pod_config, config);

  grpc::Status st;
  auto r = f.exec(id, {"sh", "-c",
                       "cat /proc/1/comm; ls -A /proc/1/root | wc -l; "
                       "cat /proc/1/root/etc/hostname 2>&1; "
                       "tr '\\0' ' ' < /proc/1/cmdline; echo; "
                       "wc -c < /proc/1/environ; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/1/status"},
                  &st);
  INFO(r.stdout() << r.stderr());
  REQUIRE(st.ok());
  std::istringstream lines(r.stdout());
  std::string comm, entries, hostname, cmdline, environ_size;
  std::getline(lines, comm);
  std::getline(lines, entries);
  std::getline(lines, hostname);
  std::getline(lines, cmdline);
  std::getline(lines, environ_size);
  std::string rest((std::istreambuf_iterator<char>(lines)), {});
  CHECK(comm == "ringcri-init");
  CHECK(entries == "0");  // an empty root of its own
  CHECK(hostname.find("No such file") != std::string::npos);
  CHECK(cmdline.find('/') == std::string::npos);  // no host path
  CHECK(read_file("/proc/" + f.pid_of(id) + "/root/etc/hostname") != read_file("/etc/hostname"));
  CHECK(rest.find("CapEff:\t0000000000000000") != std::string::npos);
  CHECK(rest.find("CapBnd:\t0000000000000000") != std::string::npos);
  CHECK(rest.find("NoNewPrivs:\t1") != std::string::npos);
  CHECK(rest.find("Seccomp:\t2") != std::string::npos);

  // A signal from inside the pod does not end it.
  auto killed = f.exec(id, {"sh", "-c", "kill -TERM 1; kill -INT 1; kill -HUP 1; sleep 0.2; cat /proc/1/comm"}, &st);
  REQUIRE(st.ok());
  CHECK(killed.stdout() == "ringcri-init\n");

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("no process a pod can see holds a capability its spec does not grant") {
  runtime_fixture f;
  auto pod_config = shared_pid(f.pod_config("caps-seen"));
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto watcher = f.create_and_start(pod, pod_config, in_pod_pid(f.container_config("watcher", {"sleep", "300"})));
  const std::uint64_t watcher_caps =
      mask(status_value(read_file("/proc/" + f.pid_of(watcher) + "/status"), "CapBnd"));

  // A container created, never started, with one capability and a user of
  // its own: between create and start it is that already.
  auto waiting = in_pod_pid(f.container_config("waiting", {"/bin/cat"}));
  auto* sc = waiting.mutable_linux()->mutable_security_context();
  sc->mutable_capabilities()->add_drop_capabilities("ALL");
  sc->mutable_capabilities()->add_add_capabilities("CHOWN");
  sc->mutable_run_as_user()->set_value(1000);
  std::string waiting_id;
  auto st = f.create(pod, pod_config, waiting, &waiting_id);
  INFO(st.error_message());
  REQUIRE(st.ok());
  const std::string waiting_pid = f.pid_of(waiting_id);
  auto host_status = read_file("/proc/" + waiting_pid + "/status");
  CHECK(mask(status_value(host_status, "CapEff")) == bit(cap_chown));
  CHECK(mask(status_value(host_status, "CapBnd")) == bit(cap_chown));
  CHECK(status_value(host_status, "Uid").rfind("1000\t", 0) == 0);
  CHECK(read_file("/proc/" + waiting_pid + "/comm") == "cat\n");
  // Not dumpable: its /proc files stay root's, not its user's.
  struct stat st_environ {};
  REQUIRE(::stat(("/proc/" + waiting_pid + "/environ").c_str(), &st_environ) == 0);
  CHECK(st_environ.st_uid == 0);

  // Every process the watcher sees, read from inside.
  grpc::Status est;
  auto seen = f.exec(watcher, {"sh", "-c",
                               "for s in /proc/[0-9]*/status; do "
                               "  echo \"$(grep ^Name: $s | cut -f2) $(grep ^CapEff: $s | cut -f2) "
                               "$(grep ^CapBnd: $s | cut -f2) $(grep ^CapPrm: $s | cut -f2)\"; done"},
                     &est);
  INFO(seen.stdout() << seen.stderr());
  REQUIRE(est.ok());
  std::istringstream lines(seen.stdout());
  std::set<std::string> names;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string name, eff, bnd, prm;
    if (!(fields >> name >> eff >> bnd >> prm)) continue;  // ended while read
    names.insert(name);
    INFO(line);
    if (name == "ringcri-init") {
      CHECK(mask(eff) == 0);
      CHECK(mask(bnd) == 0);
      CHECK(mask(prm) == 0);
    } else if (name == "cat") {
      CHECK(mask(eff) == bit(cap_chown));
      CHECK(mask(bnd) == bit(cap_chown));
    } else {
      // The watcher's own processes: its spec's, nothing more.
      CHECK((mask(eff) & ~watcher_caps) == 0);
      CHECK((mask(bnd) & ~watcher_caps) == 0);
      CHECK((mask(prm) & ~watcher_caps) == 0);
    }
  }
  CHECK(names.count("ringcri-init") == 1);
  CHECK(names.count("cat") == 1);
  CHECK(names.count("sleep") == 1);

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("a host block device cannot be made and opened: by the v1 devices cgroup, and by the BPF program") {
  runtime_fixture f;
  auto pod_config = f.pod_config("devices");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  const std::string try_disk =
      "mknod /blk b 7 0 && echo made; head -c 1 /blk >/dev/null 2>&1 && echo opened || echo refused; "
      "echo x > /dev/null && echo null-ok";

  auto id = f.create_and_start(pod, pod_config, f.container_config("both", {"sleep", "300"}));
  grpc::Status st;
  auto both = f.exec(id, {"sh", "-c", try_disk}, &st);
  REQUIRE(st.ok());
  CHECK(both.stdout() == "made\nrefused\nnull-ok\n");

  const std::string cgroup = f.container_info(id).at("cgroupPath");
  const fs::path v1_devices = fs::path("/sys/fs/cgroup/devices") / cgroup.substr(1);
  const fs::path v2_root = fs::exists("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
  const fs::path v2_dir = v2_root / cgroup.substr(1);
  const bool has_v1 = fs::exists(v1_devices / "devices.allow");
  const bool has_v2 = fs::exists(v2_dir / "cgroup.procs");
  if (has_v2) {
    // The program alone: v1's rules opened wide from the host, if any.
    CHECK(device_programs_at(v2_dir) == 1);
    if (has_v1) {
      std::ofstream(v1_devices / "devices.allow") << "a *:* rwm";
      REQUIRE(read_file(v1_devices / "devices.list") == "a *:* rwm\n");
    }
    auto bpf_only = f.exec(id, {"sh", "-c", "rm -f /blk; " + try_disk}, &st);
    REQUIRE(st.ok());
    CHECK(bpf_only.stdout() == "made\nrefused\nnull-ok\n");
  } else {
    skip_case("BPF device program alone not checked: no cgroup v2 hierarchy on this node");
  }
  if (has_v1) {
    // v1's rules alone: another container, its program detached.
    auto other = f.create_and_start(pod, pod_config, f.container_config("v1", {"sleep", "300"}));
    const std::string other_cgroup = f.container_info(other).at("cgroupPath");
    if (has_v2) detach_device_programs(v2_root / other_cgroup.substr(1));
    auto v1_only = f.exec(other, {"sh", "-c", try_disk}, &st);
    REQUIRE(st.ok());
    CHECK(v1_only.stdout() == "made\nrefused\nnull-ok\n");
  } else {
    skip_case("v1 device rules alone not checked: no v1 devices hierarchy on this node");
  }

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("host-pid-pod-leaves-no-process: what a host-PID container forks dies with its pod") {
  runtime_fixture f;
  auto pod_config = f.pod_config("host-pid");
  pod_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::NODE);
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto config = f.container_config("daemonizer", {"sh", "-c", "(setsid sleep 31337 &); (sleep 31338 &); exec sleep 300"});
  config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::NODE);
  auto id = f.create_and_start(pod, pod_config, config);
  for (int i = 0; i < 500 && (processes_with("sleep 31337").empty() || processes_with("sleep 31338").empty()); ++i)
    std::this_thread::sleep_for(10ms);
  REQUIRE(processes_with("sleep 31337").size() == 1);
  REQUIRE(processes_with("sleep 31338").size() == 1);

  // Its main process stopped, the forked ones go too.
  auto st = f.stop(id, 0);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK(processes_with("sleep 31337").empty());
  CHECK(processes_with("sleep 31338").empty());

  // And after a container whose main process ended by itself, at removal.
  auto quitter = f.container_config("quitter", {"sh", "-c", "(setsid sleep 31339 &); exit 0"});
  quitter.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::NODE);
  auto q = f.create_and_start(pod, pod_config, quitter);
  CHECK(f.wait_exited(q).state() == v1::CONTAINER_EXITED);
  for (int i = 0; i < 500 && processes_with("sleep 31339").empty(); ++i) std::this_thread::sleep_for(10ms);
  CHECK(processes_with("sleep 31339").size() == 1);
  f.remove_pod(pod);
  CHECK(processes_with("sleep 31339").empty());
  f.check_nothing_left();
}

TEST_CASE("a container's /sys/fs/cgroup is its own cgroup, read-only") {
  runtime_fixture f;
  auto pod_config = f.pod_config("cgroupfs");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto config = f.container_config("sized", {"sleep", "300"});
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(64 << 20);
  auto id = f.create_and_start(pod, pod_config, config);
  grpc::Status st;
  auto r = f.exec(id, {"sh", "-c",
                       "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
                       "cat /sys/fs/cgroup/memory.max; "
                       "grep -c . /sys/fs/cgroup/memory/cgroup.procs 2>/dev/null || grep -c . /sys/fs/cgroup/cgroup.procs; "
                       "cat /proc/self/cgroup | cut -d: -f3 | sort -u; "
                       "mkdir /sys/fs/cgroup/memory/x 2>&1 || mkdir /sys/fs/cgroup/x 2>&1"},
                  &st);
  INFO(r.stdout() << r.stderr());
  REQUIRE(st.ok());
  std::istringstream lines(r.stdout());
  std::string limit, procs, own;
  std::getline(lines, limit);
  std::getline(lines, procs);
  std::getline(lines, own);
  std::string rest((std::istreambuf_iterator<char>(lines)), {});
  CHECK(limit == std::to_string(64 << 20));
  CHECK(std::stoi(procs) >= 2);  // sleep and this exec's shell, and nothing of the host
  CHECK(std::stoi(procs) < 10);
  CHECK(own == "/");  // its own cgroup is the root it sees
  CHECK(rest.find("Read-only file system") != std::string::npos);
  f.remove_pod(pod);
  f.check_nothing_left();
}
