// Pods and containers through the daemon's socket, with images from a real
// registry (Debian's docker-registry on 127.0.0.1), checked from outside:
// /proc/PID/ns links, /proc/PID/root, files on the host, the CRI log file,
// exit codes, the cgroup trees and /proc/self/mountinfo.

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/cri_client.hpp"
#include "support/node_network.hpp"
#include "support/registry_fixture.hpp"
#include "support/ringcri_process.hpp"
#include "support/runtime_fixture.hpp"

using namespace ringcri::testing;
using namespace std::chrono_literals;
namespace v1 = runtime::v1;
namespace fs = std::filesystem;
using S = v1::RuntimeService::Stub;

TEST_CASE("a container runs in its own namespaces, in the image, as asked") {
  runtime_fixture f;
  auto pod_config = f.pod_config("asked");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());

  temp_dir host("ringcri-mount");
  std::ofstream(host.path() / "hostfile") << "from the host\n";
  fs::permissions(host.path(), fs::perms::all);  // the container runs as uid 1000
  fs::permissions(host.path() / "hostfile", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  temp_dir ro_host("ringcri-ro");

  auto config = f.container_config(
      "asked", {"sh", "-c",
                "echo \"ids $(id -u) $(id -g) $(id -G)\"; echo \"cwd $(pwd)\"; echo \"host $(hostname)\"; "
                "echo \"foo $FOO\"; cat /data/hostfile; echo written > /data/out; "
                "touch /ro/x 2>/dev/null || echo 'ro refused'; echo bye > /dev/termination-log; echo ready; exec sleep 300"});
  auto* env = config.add_envs();
  env->set_key("FOO");
  env->set_value("bar baz");
  config.set_working_dir("/tmp");
  config.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(1000);
  config.mutable_linux()->mutable_security_context()->add_supplemental_groups(1234);
  auto* m = config.add_mounts();
  m->set_host_path(host.path().string());
  m->set_container_path("/data");
  auto* ro = config.add_mounts();
  ro->set_host_path(ro_host.path().string());
  ro->set_container_path("/ro");
  ro->set_readonly(true);
  // A file under /dev, as the kubelet mounts the termination log.
  std::ofstream(host.path() / "termination-log") << "";
  fs::permissions(host.path() / "termination-log", fs::perms::all);
  auto* term = config.add_mounts();
  term->set_host_path((host.path() / "termination-log").string());
  term->set_container_path("/dev/termination-log");
  auto id = f.create_and_start(pod, pod_config, config);

  fs::path log = fs::path(pod_config.log_directory()) / "asked.log";
  auto lines = log_lines(f.wait_log(log, "ready"));
  auto ids = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("stdout F ids ", 0) == 0; });
  REQUIRE(ids != lines.end());
  CHECK_THAT(*ids, Catch::StartsWith("stdout F ids 1000 1000 ") && Catch::EndsWith(" 1234"));
  CHECK(contains(lines, "stdout F cwd /tmp"));
  CHECK(contains(lines, "stdout F host asked-host"));
  CHECK(contains(lines, "stdout F foo bar baz"));
  CHECK(contains(lines, "stdout F from the host"));
  CHECK(contains(lines, "stdout F ro refused"));
  CHECK(read_file(host.path() / "out") == "written\n");
  CHECK(read_file(host.path() / "termination-log") == "bye\n");

  auto s = f.status(id).status();
  CHECK(s.state() == v1::CONTAINER_RUNNING);
  CHECK(s.log_path() == log.string());
  CHECK(s.started_at() > 0);

  // Its own mount, pid, ipc, uts and cgroup namespaces; the pod's net, ipc, uts.
  auto pid = f.pid_of(id);
  for (const char* ns : {"mnt", "pid", "ipc", "uts", "net", "cgroup"}) {
    INFO(ns);
    CHECK(ns_link(pid, ns) != ns_link("self", ns));
  }
  auto pod_info = f.pod_info(pod);
  CHECK(inode_of(fs::path("/proc") / pid / "ns" / "net") == inode_of(pod_info.at("netNamespacePath").get<std::string>()));
  CHECK(inode_of(fs::path("/proc") / pid / "ns" / "uts") == inode_of(pod_info.at("utsNamespacePath").get<std::string>()));
  // pid 1 in its namespace: NSpid's last field.
  auto proc_status = read_file(fs::path("/proc") / pid / "status");
  CHECK(proc_status.find("\nNSpid:\t" + pid + "\t1\n") != std::string::npos);
  // Its root is the image: busybox's passwd, not the host's.
  CHECK(read_file(fs::path("/proc") / pid / "root/etc/passwd").find("app:x:1000:1000") != std::string::npos);
  CHECK(fs::exists(fs::path("/proc") / pid / "root/bin/busybox"));
  // /dev has the standard nodes; /etc/hosts and resolv.conf come from the pod.
  CHECK(fs::is_character_file(fs::path("/proc") / pid / "root/dev/null"));
  CHECK(read_file(fs::path("/proc") / pid / "root/etc/hostname") == "asked-host\n");
  CHECK(read_file(fs::path("/proc") / pid / "root/etc/hosts").find("asked-host") != std::string::npos);
  // Their mount points were in ringcri's mount point layer: nothing of
  // /etc was copied up into the container's writable layer for them.
  CHECK_FALSE(fs::exists(f.daemon.root() / "containers" / id / "upper" / "etc"));
  CHECK(read_file(fs::path("/proc") / pid / "root/etc/group").find("root:x:0:") != std::string::npos);

  auto info = f.container_info(id);
  CHECK(info.at("sandboxID") == pod);
  CHECK(info.at("runtimeSpec").at("process").at("args").at(0) == "sh");
  CHECK_FALSE(info.at("cgroupPath").get<std::string>().empty());

  f.remove_pod(pod);
  CHECK(f.container_count() == 0);
  CHECK_FALSE(fs::exists(fs::path("/proc") / pid));
  f.check_nothing_left();
}

TEST_CASE("the exit code and output of a container reach the CRI log and its status") {
  runtime_fixture f;
  auto pod_config = f.pod_config("exits");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto id = f.create_and_start(pod, pod_config,
                               f.container_config("three", {"sh", "-c", "echo out; echo err >&2; printf partial; exit 3"}));
  auto s = f.wait_exited(id);
  CHECK(s.state() == v1::CONTAINER_EXITED);
  CHECK(s.exit_code() == 3);
  CHECK(s.reason() == "Error");
  CHECK(s.finished_at() >= s.started_at());
  auto lines = log_lines(read_file(fs::path(pod_config.log_directory()) / "three.log"));
  CHECK(contains(lines, "stdout F out"));
  CHECK(contains(lines, "stderr F err"));
  CHECK(contains(lines, "stdout P partial"));

  auto zero = f.create_and_start(pod, pod_config, f.container_config("zero", {"true"}));
  s = f.wait_exited(zero);
  CHECK(s.exit_code() == 0);
  CHECK(s.reason() == "Completed");

  // The image's Entrypoint and Cmd when the request has no command.
  auto ep = f.create_and_start(pod, pod_config, f.container_config("entrypoint", {}, layered()));
  s = f.wait_exited(ep);
  CHECK(s.exit_code() == 0);
  lines = log_lines(read_file(fs::path(pod_config.log_directory()) / "entrypoint.log"));
  CHECK(contains(lines, "stdout F layer3 a"));  // the top layer wins

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("Stop sends the image's StopSignal, then SIGKILL after the timeout") {
  runtime_fixture f;
  auto pod_config = f.pod_config("stops");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());

  // layered:1 says StopSignal SIGQUIT.
  auto quits = f.create_and_start(
      pod, pod_config,
      f.container_config("quits", {"sh", "-c", "trap 'echo got QUIT; exit 7' QUIT; echo ready; while true; do sleep 0.05; done"},
                         layered()));
  fs::path log = fs::path(pod_config.log_directory()) / "quits.log";
  f.wait_log(log, "ready");
  REQUIRE(f.stop(quits, 10).ok());
  auto s = f.status(quits).status();
  CHECK(s.state() == v1::CONTAINER_EXITED);
  CHECK(s.exit_code() == 7);
  CHECK(contains(log_lines(read_file(log)), "stdout F got QUIT"));

  // pid 1 that ignores SIGTERM is killed after the timeout.
  auto stubborn = f.create_and_start(
      pod, pod_config, f.container_config("stubborn", {"sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.05; done"}));
  f.wait_log(fs::path(pod_config.log_directory()) / "stubborn.log", "ready");
  REQUIRE(f.stop(stubborn, 1).ok());
  s = f.status(stubborn).status();
  CHECK(s.state() == v1::CONTAINER_EXITED);
  CHECK(s.exit_code() == 137);

  // Stopping a stopped container is fine.
  CHECK(f.stop(stubborn, 1).ok());
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("ExecSync returns output and exit code, times out, and refuses exited containers") {
  runtime_fixture f;
  auto pod_config = f.pod_config("execs");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto id = f.create_and_start(pod, pod_config, f.container_config("sleeper", {"sleep", "300"}));

  grpc::Status st;
  auto r = f.exec(id, {"sh", "-c", "echo o; echo e >&2; cat /etc/hostname; exit 5"}, &st);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK(r.stdout() == "o\nexecs-host\n");
  CHECK(r.stderr() == "e\n");
  CHECK(r.exit_code() == 5);

  // It shares the container's pid namespace: the container's sleep is pid 1.
  r = f.exec(id, {"cat", "/proc/1/cmdline"}, &st);
  REQUIRE(st.ok());
  CHECK(r.stdout() == std::string("sleep\0" "300\0", 10));

  // A command that never ends by itself: the daemon's timeout (1 s) ends
  // it, not the client's deadline (30 s), and kills it.
  r = f.exec(id, {"sleep", "100001"}, &st, 1);
  CHECK(st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK_THAT(st.error_message(), Catch::Contains("timed out after 1 s"));
  CHECK(wait_until_gone("sleep 100001"));

  // A child left in the background holds the pipes and never ends by
  // itself: the answer comes when the command exits, not at the client's
  // deadline.
  r = f.exec(id, {"sh", "-c", "sleep 100002 & echo left"}, &st);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK(r.stdout() == "left\n");

  r = f.exec(id, {"no-such-command"}, &st);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.error_message(), Catch::Contains("no-such-command"));

  REQUIRE(f.stop(id, 0).ok());
  r = f.exec(id, {"true"}, &st);
  CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(st.error_message(), Catch::Contains(id));

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("bad input is refused naming the thing at fault, and leaves nothing behind") {
  runtime_fixture f;
  auto pod_config = f.pod_config("bad");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto mounts_before = f.pod_mounts();
  std::string id;

  auto missing_image = f.container_config("c1", {"true"}, registry().host() + "/nosuch:1");
  auto st = f.create(pod, pod_config, missing_image, &id);
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK_THAT(st.error_message(), Catch::Contains("nosuch:1"));

  auto missing_mount = f.container_config("c2", {"true"});
  auto* m = missing_mount.add_mounts();
  m->set_host_path("/nonexistent/ringcri-test-path");
  m->set_container_path("/data");
  st = f.create(pod, pod_config, missing_mount, &id);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.error_message(), Catch::Contains("/nonexistent/ringcri-test-path"));

  auto unknown_user = f.container_config("c3", {"true"});
  unknown_user.mutable_linux()->mutable_security_context()->set_run_as_username("nosuchuser");
  st = f.create(pod, pod_config, unknown_user, &id);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.error_message(), Catch::Contains("nosuchuser"));

  auto not_found = f.container_config("c4", {"no-such-binary", "arg"});
  st = f.create(pod, pod_config, not_found, &id);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.error_message(), Catch::Contains("no-such-binary"));

  auto no_pod = f.container_config("c5", {"true"});
  st = f.create("0000000000000000000000000000000000000000000000000000000000000000", pod_config, no_pod, &id);
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);

  CHECK(f.container_count() == 0);
  CHECK(f.pod_mounts() == mounts_before);
  std::error_code ec;
  CHECK((fs::is_empty(f.daemon.root() / "containers", ec) || !fs::exists(f.daemon.root() / "containers")));
  // The pod's cgroup is there, with no container cgroup left inside.
  auto pod_cgroups = cgroups_named("pod-" + pod);
  CHECK_FALSE(pod_cgroups.empty());
  for (const auto& dir : pod_cgroups)
    for (const auto& entry : fs::directory_iterator(dir)) CHECK_FALSE(entry.is_directory());

  // The same name works once the failures are gone.
  auto fine = f.container_config("c1", {"true"});
  st = f.create(pod, pod_config, fine, &id);
  INFO(st.error_message());
  CHECK(st.ok());

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("containers of a pod with a shared pid namespace see each other") {
  runtime_fixture f;
  auto pod_config = f.pod_config("shared");
  pod_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  std::string pod;
  auto st = f.run_pod(pod_config, &pod);
  INFO(st.error_message());
  REQUIRE(st.ok());
  auto shared = [&](const std::string& name, std::vector<std::string> cmd) {
    auto c = f.container_config(name, std::move(cmd));
    c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
    return c;
  };
  auto a = f.create_and_start(pod, pod_config, shared("a", {"sleep", "301"}));
  auto b = f.create_and_start(pod, pod_config, shared("b", {"sleep", "302"}));
  CHECK(ns_link(f.pid_of(a), "pid") == ns_link(f.pid_of(b), "pid"));
  CHECK(ns_link(f.pid_of(a), "pid") != ns_link("self", "pid"));
  auto r = f.exec(a, {"sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"}, &st);
  REQUIRE(st.ok());
  CHECK_THAT(r.stdout(), Catch::Contains("sleep 302"));
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("the pod init of a shared pid namespace reaps the orphans of its containers") {
  runtime_fixture f;
  auto pod_config = f.pod_config("reaps");
  pod_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      v1::POD);
  std::string pod;
  auto st = f.run_pod(pod_config, &pod);
  INFO(st.error_message());
  REQUIRE(st.ok());
  auto config = f.container_config(
      "parent", {"sh", "-c", "sh -c 'sleep 100003 &'; echo ready; exec sleep 303"});
  config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  auto id = f.create_and_start(pod, pod_config, config);
  f.wait_log(fs::path(pod_config.log_directory()) / "parent.log", "ready");

  // The inner shell is gone: its background sleep is an orphan, re-parented
  // to pid 1 of the pod's namespace, the pod init.
  std::vector<std::string> orphans;
  for (int i = 0; i < 500 && orphans.empty(); ++i) {
    orphans = processes_with("sleep 100003");
    if (orphans.empty()) std::this_thread::sleep_for(20ms);
  }
  REQUIRE(orphans.size() == 1);
  const std::string orphan = orphans[0];
  const std::string init = std::to_string(f.pod_info(pod).at("pid").get<int>());
  CHECK_THAT(read_file("/proc/" + orphan + "/status"), Catch::Contains("\nPPid:\t" + init + "\n"));
  const auto pod_pid_ns = ns_link(f.pid_of(id), "pid");
  CHECK(ns_link(init, "pid") == pod_pid_ns);

  // It exits: the init reaps it, so no zombie stays behind in the pod (a
  // zombie keeps its /proc entry, in state Z, until its parent waits).
  REQUIRE(::kill(std::stoi(orphan), SIGKILL) == 0);
  const fs::path entry = "/proc/" + orphan;
  for (int i = 0; i < 1000 && fs::exists(entry); ++i) std::this_thread::sleep_for(20ms);
  INFO(read_file(entry / "status"));
  CHECK_FALSE(fs::exists(entry));
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos ||
        ns_link(pid, "pid") != pod_pid_ns)
      continue;
    INFO("pid " << pid);
    CHECK(read_file(e.path() / "status").find("\nState:\tZ") == std::string::npos);
  }
  CHECK(f.status(id).status().state() == v1::CONTAINER_RUNNING);
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("exec runs in the container's cgroup, namespaces and user") {
  runtime_fixture f;
  auto pod_config = f.pod_config("exec-joins");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto config = f.container_config("joined", {"sleep", "304"});
  config.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(1000);
  config.mutable_linux()->mutable_security_context()->mutable_run_as_group()->set_value(1001);
  auto id = f.create_and_start(pod, pod_config, config);
  const auto container = f.pid_of(id);

  // An exec that runs until the test kills it, looked at from the host
  // while it runs.
  grpc::Status st;
  v1::ExecSyncResponse r;
  std::thread exec([&] { r = f.exec(id, {"sleep", "100005"}, &st); });
  std::vector<std::string> found;
  for (int i = 0; i < 500 && found.empty(); ++i) {
    found = processes_with("sleep 100005");
    if (found.empty()) std::this_thread::sleep_for(20ms);
  }
  if (found.size() == 1) {
    const auto pid = found[0];
    // Every hierarchy's line is the container's: the same cgroup in each.
    const auto cgroups = read_file("/proc/" + pid + "/cgroup");
    CHECK(cgroups == read_file("/proc/" + container + "/cgroup"));
    CHECK_THAT(cgroups, Catch::Contains(f.container_info(id).at("cgroupPath").get<std::string>()));
    const auto status = read_file("/proc/" + pid + "/status");
    CHECK_THAT(status, Catch::Contains("\nUid:\t1000\t1000\t1000\t1000\n"));
    CHECK_THAT(status, Catch::Contains("\nGid:\t1001\t1001\t1001\t1001\n"));
    for (const char* ns : {"mnt", "pid", "ipc", "uts", "net", "cgroup"}) {
      INFO(ns);
      CHECK(ns_link(pid, ns) == ns_link(container, ns));
    }
    CHECK(fs::read_symlink("/proc/" + pid + "/root") ==
          fs::read_symlink("/proc/" + container + "/root"));
    ::kill(std::stoi(pid), SIGKILL);
  }
  exec.join();
  REQUIRE(found.size() == 1);
  INFO(st.error_message());
  CHECK(st.ok());
  CHECK(r.exit_code() == 137);
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("the containers of a pod share its IPC namespace, and only they do") {
  runtime_fixture f;
  auto pod_config = f.pod_config("ipc");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto a = f.pid_of(f.create_and_start(pod, pod_config, f.container_config("a", {"sleep", "305"})));
  auto b = f.pid_of(f.create_and_start(pod, pod_config, f.container_config("b", {"sleep", "306"})));
  auto other_config = f.pod_config("ipc-other");
  std::string other_pod;
  REQUIRE(f.run_pod(other_config, &other_pod).ok());
  auto c = f.pid_of(
      f.create_and_start(other_pod, other_config, f.container_config("c", {"sleep", "307"})));

  CHECK(ns_link(a, "ipc") == ns_link(b, "ipc"));
  CHECK(inode_of("/proc/" + a + "/ns/ipc") ==
        inode_of(f.pod_info(pod).at("ipcNamespacePath").get<std::string>()));
  CHECK(ns_link(a, "ipc") != ns_link(c, "ipc"));
  // Not the host's: the segment below must not land on the node.
  REQUIRE(ns_link(a, "ipc") != ns_link("self", "ipc"));

  // A SysV shared memory segment made in A's namespace is seen in B's,
  // not in the other pod's nor on the host.
  int rc = 0;
  auto made = shell_output("nsenter -t " + a + " -i ipcmk -M 4096 2>&1", &rc);
  INFO(made);
  REQUIRE(rc == 0);
  std::smatch m;
  REQUIRE(std::regex_search(made, m, std::regex("id: (\\d+)")));
  const std::string shm_id = m[1];
  auto segments = [](const std::string& pid) {
    return shell_output((pid.empty() ? std::string() : "nsenter -t " + pid + " -i ") +
                        "ipcs -m 2>/dev/null");
  };
  const std::regex row("\\n0x[0-9a-f]+ +" + shm_id + " ");
  CHECK(std::regex_search(segments(b), row));
  CHECK_FALSE(std::regex_search(segments(c), row));
  CHECK(segments(a) == segments(b));
  CHECK(segments(c) != segments(b));

  f.remove_pod(pod);
  f.remove_pod(other_pod);
  f.check_nothing_left();
}

TEST_CASE("the pod's resolv.conf is made from its DnsConfig") {
  runtime_fixture f;
  auto pod_config = f.pod_config("dns");
  auto* dns = pod_config.mutable_dns_config();
  dns->add_servers("10.96.0.10");
  dns->add_servers("10.96.0.11");
  dns->add_searches("default.svc.cluster.local");
  dns->add_searches("cluster.local");
  dns->add_options("ndots:5");
  dns->add_options("timeout:2");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto id = f.create_and_start(pod, pod_config, f.container_config("resolver", {"sleep", "308"}));
  const std::string expected =
      "search default.svc.cluster.local cluster.local\n"
      "nameserver 10.96.0.10\n"
      "nameserver 10.96.0.11\n"
      "options ndots:5 timeout:2\n";
  CHECK(read_file("/proc/" + f.pid_of(id) + "/root/etc/resolv.conf") == expected);
  CHECK(read_file(f.pod_info(pod).at("resolvConfPath").get<std::string>()) == expected);
  // Without a DnsConfig a pod gets the node's.
  auto plain_config = f.pod_config("dns-node");
  std::string plain;
  REQUIRE(f.run_pod(plain_config, &plain).ok());
  auto node_id = f.create_and_start(plain, plain_config,
                                    f.container_config("node-resolver", {"sleep", "309"}));
  CHECK(read_file("/proc/" + f.pid_of(node_id) + "/root/etc/resolv.conf") ==
        read_file("/etc/resolv.conf"));
  f.remove_pod(pod);
  f.remove_pod(plain);
  f.check_nothing_left();
}

TEST_CASE("ReopenContainerLog starts a fresh file after the kubelet rotated the log") {
  runtime_fixture f;
  auto pod_config = f.pod_config("rotate");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto id = f.create_and_start(
      pod, pod_config, f.container_config("ticker", {"sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done"}));
  fs::path log = fs::path(pod_config.log_directory()) / "ticker.log";
  f.wait_log(log, "tick 3");
  fs::rename(log, log.string() + ".1");
  v1::ReopenContainerLogRequest req;
  req.set_container_id(id);
  v1::ReopenContainerLogResponse resp;
  auto st = f.client.runtime_call(&S::ReopenContainerLog, req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  auto fresh = f.wait_log(log, "tick");
  CHECK_FALSE(fresh.empty());
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("a container the keeper holds without a record is removed at restart") {
  runtime_fixture f;
  auto pod_config = f.pod_config("orphan");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto id = f.create_and_start(pod, pod_config, f.container_config("lost", {"sleep", "300"}));
  auto pid = f.pid_of(id);
  // As if the daemon died between the keeper's create and the record's
  // write: stopped (which puts every record in its file and empties the
  // journal), then the container's record deleted.
  CHECK(f.daemon.stop() == 0);
  REQUIRE(fs::exists(f.daemon.root() / "meta" / "containers" / id));
  fs::remove(f.daemon.root() / "meta" / "containers" / id);
  f.daemon.restart();
  f.client.reconnect();
  CHECK(f.container_count() == 0);
  for (int i = 0; i < 100 && fs::exists(fs::path("/proc") / pid); ++i) std::this_thread::sleep_for(20ms);
  CHECK_FALSE(fs::exists(fs::path("/proc") / pid));
  CHECK_FALSE(fs::exists(f.daemon.root() / "containers" / id));
  CHECK(f.daemon.log().find("orphans_removed=1") != std::string::npos);
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("a created container keeps its process and pid across kill -9 of the daemon, then starts") {
  runtime_fixture f;
  auto pod_config = f.pod_config("created-restart");
  std::string pod, id;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto st = f.create(pod, pod_config, f.container_config("waiting", {"sh", "-c", "echo started; sleep 300"}), &id);
  INFO(st.error_message());
  REQUIRE(st.ok());
  auto pid = f.pid_of(id);
  REQUIRE(fs::exists(fs::path("/proc") / pid));

  f.daemon.kill();
  f.daemon.restart();
  f.client.reconnect();
  CHECK(f.status(id).status().state() == v1::CONTAINER_CREATED);
  CHECK(f.pid_of(id) == pid);
  st = f.start(id);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK_FALSE(f.wait_log(fs::path(pod_config.log_directory()) / "waiting.log", "started").empty());
  CHECK(f.pid_of(id) == pid);
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("kill -9 of the daemon loses no container, log line or exit code") {
  runtime_fixture f;
  constexpr int pods = 20;
  std::vector<std::string> pod_ids, ids;
  std::vector<v1::PodSandboxConfig> configs;
  for (int i = 0; i < pods; ++i) {
    configs.push_back(f.pod_config("survivor-" + std::to_string(i)));
    std::string pod;
    REQUIRE(f.run_pod(configs.back(), &pod).ok());
    pod_ids.push_back(pod);
    ids.push_back(f.create_and_start(
        pod, configs.back(),
        f.container_config("counter", {"sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.02; done"})));
  }
  std::vector<std::string> pids;
  for (const auto& id : ids) pids.push_back(f.pid_of(id));
  // One that exits while the daemon is gone.
  auto exiter = f.create_and_start(pod_ids[0], configs[0], f.container_config("exiter", {"sh", "-c", "sleep 1; exit 42"}));

  f.daemon.kill();
  std::this_thread::sleep_for(2s);
  f.daemon.restart();
  f.client.reconnect();

  for (int i = 0; i < pods; ++i) {
    auto s = f.status(ids[i]).status();
    CHECK(s.state() == v1::CONTAINER_RUNNING);
    CHECK(f.pid_of(ids[i]) == pids[i]);
  }
  auto s = f.status(exiter).status();
  CHECK(s.state() == v1::CONTAINER_EXITED);
  CHECK(s.exit_code() == 42);

  // The logs go on without a gap: line numbers are consecutive.
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < pods; ++i) REQUIRE(f.stop(ids[i], 0).ok());
  for (int i = 0; i < pods; ++i) {
    auto lines = log_lines(read_file(fs::path(configs[i].log_directory()) / "counter.log"));
    REQUIRE(lines.size() > 20);
    for (std::size_t n = 0; n < lines.size(); ++n) {
      INFO("pod " << i << " line " << n);
      REQUIRE(lines[n] == "stdout F line " + std::to_string(n));
    }
  }
  for (const auto& pod : pod_ids) f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("seccomp: RuntimeDefault denies, Unconfined does not, Localhost reads its file, a bad one is refused") {
  runtime_fixture f;
  auto pod_config = f.pod_config("seccomp");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto log = fs::path(pod_config.log_directory());
  const std::vector<std::string> probe = {
      "sh", "-c", "unshare -U true 2>/dev/null; echo unshare=$?; mkdir /tmp/probe 2>/dev/null; echo mkdir=$?; exec sleep 300"};

  auto run = [&](const std::string& name, auto set_profile) {
    auto config = f.container_config(name, probe);
    set_profile(*config.mutable_linux()->mutable_security_context());
    auto id = f.create_and_start(pod, pod_config, config);
    auto text = f.wait_log(log / (name + ".log"), "mkdir=");
    auto status = read_file("/proc/" + f.pid_of(id) + "/status");
    return std::make_pair(text, status);
  };

  auto [unconfined_log, unconfined_status] = run("unconfined", [](v1::LinuxContainerSecurityContext& sc) {
    sc.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Unconfined);
  });
  CHECK(unconfined_log.find("unshare=0") != std::string::npos);
  CHECK(unconfined_status.find("Seccomp:\t0") != std::string::npos);

  auto [default_log, default_status] = run("default", [](v1::LinuxContainerSecurityContext& sc) {
    sc.mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  });
  INFO(default_log);
  CHECK(default_log.find("unshare=0") == std::string::npos);
  CHECK(default_log.find("mkdir=0") != std::string::npos);
  CHECK(default_status.find("Seccomp:\t2") != std::string::npos);

  temp_dir profiles("ringcri-seccomp");
  auto profile = profiles.path() / "no-mkdir.json";
  std::ofstream(profile) << R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
      {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]})";
  auto [local_log, local_status] = run("localhost", [&](v1::LinuxContainerSecurityContext& sc) {
    sc.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
    sc.mutable_seccomp()->set_localhost_ref(profile.string());
  });
  CHECK(local_log.find("mkdir=1") != std::string::npos);
  CHECK(local_log.find("unshare=0") != std::string::npos);
  CHECK(local_status.find("Seccomp:\t2") != std::string::npos);

  auto config = f.container_config("missing", probe);
  config.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      v1::SecurityProfile::Localhost);
  config.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_localhost_ref(
      (profiles.path() / "absent.json").string());
  std::string id;
  auto st = f.create(pod, pod_config, config, &id);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message().find("absent.json") != std::string::npos);

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("sysctls: a namespaced one is set in the pod and not on the node; others are refused") {
  runtime_fixture f;
  auto host_before = read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start");

  auto bad = f.pod_config("sysctl-bad");
  (*bad.mutable_linux()->mutable_sysctls())["kernel.panic"] = "5";
  std::string id;
  auto st = f.run_pod(bad, &id);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message().find("kernel.panic") != std::string::npos);

  auto good = f.pod_config("sysctl");
  (*good.mutable_linux()->mutable_sysctls())["net/ipv4/ip_unprivileged_port_start"] = "123";
  std::string pod;
  REQUIRE(f.run_pod(good, &pod).ok());
  auto config = f.container_config("sysctl", {"sh", "-c", "echo port=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start); sleep 300"});
  f.create_and_start(pod, good, config);
  auto log = f.wait_log(fs::path(good.log_directory()) / "sysctl.log", "port=");
  CHECK(log.find("port=123") != std::string::npos);
  CHECK(read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start") == host_before);

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("GetContainerEvents streams every pod and container lifecycle step") {
  runtime_fixture f;
  // The stream stays open for the whole test: its own deadline, longer
  // than a call's.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5min);
  auto reader = f.client.runtime().GetContainerEvents(&ctx, v1::GetEventsRequest{});
  std::vector<v1::ContainerEventResponse> events;
  std::mutex mutex;
  std::thread collector([&] {
    v1::ContainerEventResponse e;
    while (reader->Read(&e)) {
      std::lock_guard lock(mutex);
      events.push_back(e);
    }
  });
  // The stream is open on the server once an event comes through it:
  // probe pods are made and removed until one's event arrives.
  auto seen = [&] {
    std::lock_guard lock(mutex);
    return events.size();
  };
  std::set<std::string> probes;
  for (int probe = 0; probe < 50 && seen() == 0; ++probe) {
    probes.insert(f.run_pod("probe-" + std::to_string(probe)));
    f.remove_pod(*probes.rbegin());
    for (int i = 0; i < 50 && seen() == 0; ++i) std::this_thread::sleep_for(10ms);
  }
  REQUIRE(seen() > 0);

  auto pod_config = f.pod_config("events");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto id = f.create_and_start(pod, pod_config, f.container_config("events", {"true"}));
  CHECK(f.wait_exited(id).exit_code() == 0);
  v1::RemoveContainerRequest rm;
  rm.set_container_id(id);
  v1::RemoveContainerResponse rm_resp;
  REQUIRE(f.client.runtime_call(&S::RemoveContainer, rm, &rm_resp).ok());
  f.remove_pod(pod);

  auto types_of = [&](const std::string& who) {
    std::vector<v1::ContainerEventType> out;
    std::lock_guard lock(mutex);
    for (const auto& e : events)
      if (e.container_id() == who) out.push_back(e.container_event_type());
    return out;
  };
  const std::vector<v1::ContainerEventType> lifecycle = {v1::CONTAINER_CREATED_EVENT, v1::CONTAINER_STARTED_EVENT,
                                                         v1::CONTAINER_STOPPED_EVENT, v1::CONTAINER_DELETED_EVENT};
  for (int i = 0; i < 100 && (types_of(id).size() < 4 || types_of(pod).size() < 4); ++i) std::this_thread::sleep_for(20ms);
  CHECK(types_of(id) == lifecycle);
  CHECK(types_of(pod) == lifecycle);
  {
    std::lock_guard lock(mutex);
    for (const auto& e : events) {
      if (probes.contains(e.pod_sandbox_status().id())) continue;
      CHECK(e.created_at() > 0);
      CHECK(e.pod_sandbox_status().id() == pod);
      if (e.container_id() == id && e.container_event_type() == v1::CONTAINER_STOPPED_EVENT) {
        REQUIRE(e.containers_statuses_size() == 1);
        CHECK(e.containers_statuses(0).state() == v1::CONTAINER_EXITED);
        CHECK(e.containers_statuses(0).reason() == "Completed");
      }
    }
  }
  f.check_nothing_left();
  // A daemon told to stop ends the open stream itself, with OK, and exits
  // (left to gRPC's shutdown grace, the stream would end CANCELLED).
  CHECK(f.daemon.stop() == 0);
  collector.join();
  if (std::getenv("RINGCRI_TEST_SHOW_LOG")) std::cout << f.daemon.log();
  auto ended = reader->Finish();
  INFO(ended.error_message());
  CHECK(ended.ok());
}

TEST_CASE("the mount base containers are cloned from holds no EROFS mount of the host's") {
  // A layer removed later must not stay mounted (its image allocated) in
  // the namespace the keeper made when it started.
  if (shell_output("command -v mkfs.erofs").empty()) {
    WARN("SKIP: no mkfs.erofs (erofs-utils) on this machine");
    return;
  }
  temp_dir dir;
  fs::create_directories(dir.path() / "tree/d");
  fs::create_directories(dir.path() / "mnt");
  std::ofstream(dir.path() / "tree/d/f") << "x";
  int status = 0;
  shell_output("mkfs.erofs " + (dir.path() / "img").string() + " " + (dir.path() / "tree").string() +
                   " 2>&1",
               &status);
  REQUIRE(status == 0);
  const std::string point = (dir.path() / "mnt").string();
  REQUIRE(::mount((dir.path() / "img").c_str(), point.c_str(), "erofs", MS_RDONLY, nullptr) == 0);
  struct unmount {
    std::string point;
    ~unmount() { ::umount2(point.c_str(), MNT_DETACH); }
  } unmount_it{point};
  REQUIRE(!mounts_under(point).empty());

  ringcri_process d;  // its keeper starts now, with the image mounted
  pid_t keeper = 0;
  for (int i = 0; i < 500 && keeper <= 0; ++i) {
    std::ifstream lock(d.state() / "keeper.lock");
    lock >> keeper;
    if (keeper <= 0) std::this_thread::sleep_for(10ms);
  }
  REQUIRE(keeper > 0);
  // The base: the keeper's fd on a mount namespace other than its own.
  const auto own = fs::read_symlink("/proc/" + std::to_string(keeper) + "/ns/mnt");
  std::string base;
  for (int i = 0; i < 500 && base.empty(); ++i) {
    std::error_code ec;
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(keeper) + "/fd", ec)) {
      auto target = fs::read_symlink(fd.path(), ec);
      if (!ec && target.string().starts_with("mnt:[") && target != own) base = fd.path().string();
    }
    if (base.empty()) std::this_thread::sleep_for(10ms);
  }
  REQUIRE_FALSE(base.empty());
  const std::string inside = shell_output("nsenter --mount=" + base + " cat /proc/self/mountinfo", &status);
  REQUIRE(status == 0);
  CHECK_THAT(inside, Catch::Contains(" / / "));  // it is a mount table, with a root
  CHECK_THAT(inside, !Catch::Contains(point));
  CHECK_THAT(inside, !Catch::Contains(" - erofs "));
}
