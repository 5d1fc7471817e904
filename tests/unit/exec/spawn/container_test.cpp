// A container made by clone_container: its namespaces, rootfs, process
// attributes and the file system protections the spec asks for.

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "spawn_fixture.hpp"

using namespace ringcri::exec;
using namespace spawn_test;

TEST_CASE("a container has its own namespaces, pid 1 and the overlay with the top layer winning",
          "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("ns"), {"sleep", "1000"});
  spec.hostname = "box1";
  auto before = mounts_under(img.dir());

  child c = start(spec);
  for (const char* kind : {"mnt", "pid", "uts", "ipc", "cgroup", "net"}) {
    INFO(kind);
    CHECK(!ns_link(c.pid, kind).empty());
    CHECK(ns_link(c.pid, kind) != ns_link(0, kind));
  }
  // NSpid: the pid here, then in its own namespace.
  CHECK(status_field(c.pid, "NSpid") == std::to_string(c.pid) + "\t1");
  kill_and_reap(c);

  auto spec2 = default_spec(img.rootfs("ns2"), {"sh", "-c",
                                                "cat /etc/layer /etc/bottom-only; "
                                                "hostname; echo $$; echo hi > /newfile"});
  spec2.hostname = "box1";
  auto r = run(spec2);
  INFO(r.created.message << r.started.message << r.err);
  CHECK(r.exit.code == 0);
  CHECK(r.out == "top\nfrom bottom\nbox1\n1\n");
  // Writes land in the container's upper dir.
  CHECK(read_file(spec2.rootfs.upper + "/newfile") == "hi\n");
  CHECK(mounts_under(img.dir()) == before);
}

TEST_CASE("args, env, cwd, uid, gid and supplementary groups are the spec's", "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("user"), {"sh", "-c", "id; pwd; env"});
  spec.process.env = {"PATH=/bin", "FOO=bar baz"};
  spec.process.cwd = "/work/here";
  spec.process.user = {1000, 1000, {10, 29}};
  auto r = run(spec);
  INFO(r.created.message << r.started.message << r.err);
  REQUIRE(r.exit.code == 0);
  CHECK(r.out.find("uid=1000(user) gid=1000(user) groups=10(wheel),29(audio)\n") == 0);
  CHECK(r.out.find("\n/work/here\n") != std::string::npos);
  CHECK(r.out.find("\nFOO=bar baz\n") != std::string::npos);
  CHECK(r.out.find("\nPATH=/bin\n") != std::string::npos);
}

TEST_CASE("a process released after setup runs and its exit code comes back", "[spawn]") {
  skip_unless_able();
  image img;
  auto r = run(default_spec(img.rootfs("exit"), {"sh", "-c", "exit 3"}));
  CHECK(r.created.kind == report_kind::ready);
  CHECK(r.started.kind == report_kind::exec_done);
  CHECK(r.exit.code == 3);
}

TEST_CASE("a readonly rootfs refuses a write", "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("ro"), {"sh", "-c", "echo x > /newfile"});
  spec.rootfs.readonly = true;
  spec.process.cwd = "/made/by/spawn";  // made before the rootfs turns readonly
  auto r = run(spec);
  INFO(r.created.message << r.started.message);
  CHECK(r.started.kind == report_kind::exec_done);
  CHECK(r.exit.code != 0);
  CHECK(r.err.find("Read-only file system") != std::string::npos);
  CHECK(!std::filesystem::exists(spec.rootfs.upper + "/newfile"));
}

TEST_CASE("masked paths read empty and readonly paths refuse writes", "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(
      img.rootfs("masked"),
      {"sh", "-c",
       "cat /etc/secret; ls /etc/secretdir; echo end; touch /data/x && echo data-writable;"
       " touch /tmp/x && echo tmp-writable; echo 1 > /proc/sys/kernel/domainname || echo sys-ro"});
  spec.masked_paths = {"/etc/secret", "/etc/secretdir", "/proc/kcore", "/no/such/path"};
  spec.readonly_paths = {"/data", "/proc/sys", "/no/such/dir"};
  auto r = run(spec);
  INFO(r.created.message << r.started.message << r.err);
  CHECK(r.exit.code == 0);
  CHECK(r.out == "end\ntmp-writable\nsys-ro\n");
  CHECK(r.err.find("Read-only file system") != std::string::npos);
}

TEST_CASE("capabilities are the spec's: Docker's default 14", "[spawn]") {
  skip_unless_able();
  image img;
  child c = start(default_spec(img.rootfs("caps"), {"sleep", "1000"}));
  // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
  // NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
  CHECK(status_field(c.pid, "CapBnd") == "00000000a80425fb");
  CHECK(status_field(c.pid, "CapEff") == "00000000a80425fb");
  CHECK(status_field(c.pid, "CapPrm") == "00000000a80425fb");
  CHECK(status_field(c.pid, "CapInh") == "0000000000000000");
  CHECK(status_field(c.pid, "CapAmb") == "0000000000000000");
  kill_and_reap(c);
}

TEST_CASE("a non-root user keeps ambient capabilities and no_new_privs is set", "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("ambient"), {"sleep", "1000"});
  spec.process.user = {1000, 1000, {}};
  spec.process.capabilities = {{"CAP_NET_BIND_SERVICE", "CAP_CHOWN"},
                               {"CAP_NET_BIND_SERVICE"},
                               {"CAP_NET_BIND_SERVICE"},
                               {"CAP_NET_BIND_SERVICE"},
                               {"CAP_NET_BIND_SERVICE"}};
  spec.process.no_new_privileges = true;
  child c = start(spec);
  CHECK(status_field(c.pid, "CapBnd") == "0000000000000401");
  CHECK(status_field(c.pid, "CapEff") == "0000000000000400");
  CHECK(status_field(c.pid, "CapAmb") == "0000000000000400");
  CHECK(status_field(c.pid, "NoNewPrivs") == "1");
  CHECK(status_field(c.pid, "Uid").find("1000\t1000\t1000\t1000") == 0);
  kill_and_reap(c);
}

TEST_CASE("rlimits are set and an unknown one fails naming it", "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("rlimit"), {"sh", "-c", "ulimit -n"});
  spec.process.rlimits = {{"RLIMIT_NOFILE", 256, 512}};
  auto r = run(spec);
  CHECK(r.exit.code == 0);
  CHECK(r.out == "256\n");

  spec.rootfs = img.rootfs("rlimit2");
  spec.process.rlimits = {{"RLIMIT_BOGUS", 1, 1}};
  r = run(spec);
  CHECK(r.created.kind == report_kind::error);
  CHECK(r.created.message.find("RLIMIT_BOGUS") != std::string::npos);
}

TEST_CASE("oom_score_adj below the current value is clamped, not fatal", "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("oom"), {"cat", "/proc/self/oom_score_adj"});
  spec.process.oom_score_adj = -998;
  auto r = run(spec);
  INFO(r.created.message);
  CHECK(r.exit.code == 0);
  CHECK(!r.out.empty());

  spec.rootfs = img.rootfs("oom2");
  spec.process.oom_score_adj = 500;
  r = run(spec);
  CHECK(r.out == "500\n");
}

TEST_CASE("a rootfs made ahead is attached in the container, and nowhere else", "[spawn]") {
  skip_unless_able();
  image img;
  auto before = mounts_under(img.dir());
  auto spec = default_spec(img.rootfs("ahead"),
                           {"sh", "-c", "cat /etc/layer /etc/bottom-only; echo hi > /newfile"});
  auto made = make_detached_overlay(spec.rootfs);
  INFO((made ? "" : made.error().message()));
  REQUIRE(made);
  // Made, but attached nowhere: the host sees no new mount.
  CHECK(mounts_under(img.dir()) == before);
  auto r = run(spec, made->get());
  INFO(r.created.message << r.started.message << r.err);
  CHECK(r.exit.code == 0);
  CHECK(r.out == "top\nfrom bottom\n");
  CHECK(read_file(spec.rootfs.upper + "/newfile") == "hi\n");
  made->reset();
  CHECK(mounts_under(img.dir()) == before);

  // A missing layer: the error names it, before any process exists.
  auto broken = spec.rootfs;
  broken.lowers.push_back(img.dir() + "/no-such-layer");
  auto refused = make_detached_overlay(broken);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("no-such-layer") != std::string::npos);
}

TEST_CASE("an overlay whose lowerdir option exceeds a page is mounted through fsconfig",
          "[spawn]") {
  skip_unless_able();
  image img;
  auto rootfs = img.rootfs("many");
  // 80 layers of ~80 byte paths: well past 4096 bytes of options.
  std::vector<std::string> lowers = {rootfs.lowers[0]};
  for (int i = 0; i < 80; ++i) {
    std::string d = img.dir() + "/layers/" + std::string(60, 'l') + std::to_string(i);
    std::filesystem::create_directories(d + "/etc");
    if (i == 40) write_file(d + "/etc/middle", "middle\n");
    lowers.push_back(d);
  }
  lowers.push_back(rootfs.lowers[1]);
  rootfs.lowers = lowers;
  auto r = run(default_spec(rootfs, {"cat", "/etc/layer", "/etc/middle"}));
  INFO(r.created.message << r.err);
  CHECK(r.exit.code == 0);
  CHECK(r.out == "top\nmiddle\n");
}

TEST_CASE("bind mounts: a dir and a file, readonly, and a symlink in the image stays inside",
          "[spawn]") {
  skip_unless_able();
  image img;
  temp_dir host;
  write_file(host.path() + "/file", "host file\n");
  std::filesystem::create_directories(host.path() + "/dir");
  auto rootfs = img.rootfs("bind");
  // /escape -> /tmp/outside... in the image: the mount must land inside.
  std::filesystem::create_symlink(host.path() + "/outside", rootfs.upper + "/escape");
  auto spec = default_spec(rootfs, {"sh", "-c",
                                    "cat /etc/hostfile; echo out > /out/result; "
                                    "touch /ro/x || echo ro-refused; ls /escape"});
  spec.mounts.push_back({"/etc/hostfile", "bind", host.path() + "/file", {"rbind", "ro"}});
  spec.mounts.push_back({"/out", "bind", host.path() + "/dir", {"rbind", "rw"}});
  spec.mounts.push_back({"/ro", "bind", host.path() + "/dir", {"bind", "ro", "rprivate"}});
  spec.mounts.push_back({"/escape/inside", "tmpfs", "tmpfs", {"size=1m"}});
  auto r = run(spec);
  INFO(r.created.message << r.started.message << r.err);
  CHECK(r.exit.code == 0);
  CHECK(r.out == "host file\nro-refused\ninside\n");
  CHECK(read_file(host.path() + "/dir/result") == "out\n");
  CHECK(!std::filesystem::exists(host.path() + "/outside"));
  CHECK(mounts_under(host.path()).empty());
}

TEST_CASE("sysctls are written in the container's namespaces", "[spawn]") {
  skip_unless_able();
  image img;
  const std::string host_forward = read_file("/proc/sys/net/ipv4/ip_forward");
  const std::string host_domain = read_file("/proc/sys/kernel/domainname");
  auto spec = default_spec(img.rootfs("sysctl"),
                           {"cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/domainname"});
  spec.sysctls = {{"net.ipv4.ip_forward", host_forward == "1\n" ? "0" : "1"},
                  {"kernel.domainname", "spawn.test"}};
  auto r = run(spec);
  INFO(r.created.message);
  CHECK(r.exit.code == 0);
  CHECK(r.out == (host_forward == "1\n" ? "0\n" : "1\n") + std::string("spawn.test\n"));
  CHECK(read_file("/proc/sys/net/ipv4/ip_forward") == host_forward);
  CHECK(read_file("/proc/sys/kernel/domainname") == host_domain);
}

TEST_CASE("a created container waits for its release already confined, under its own name",
          "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("waiting"), {"/bin/sleep", "1000"});
  spec.process.user = {1000, 1000, {}};
  spec.process.capabilities.bounding = {"CAP_KILL"};
  spec.process.capabilities.effective = {"CAP_KILL"};
  spec.process.capabilities.permitted = {"CAP_KILL"};
  spec.process.no_new_privileges = true;
  spec.process.seccomp = seccomp_spec{"SCMP_ACT_ALLOW", 1, {}};
  auto c = clone_container(spec, {});
  REQUIRE(c);
  auto created = wait_report(c->report.get());
  INFO(created.message);
  REQUIRE(created.kind == report_kind::ready);

  // Before StartContainer: the spec's user, capabilities, no_new_privs and
  // filter already; its command's name, and no host path on its command line.
  CHECK(status_field(c->pid, "Uid").rfind("1000\t", 0) == 0);
  CHECK(status_field(c->pid, "CapEff") == "0000000000000020");
  CHECK(status_field(c->pid, "CapBnd") == "0000000000000020");
  CHECK(status_field(c->pid, "NoNewPrivs") == "1");
  CHECK(status_field(c->pid, "Seccomp") == "2");
  const std::string proc = "/proc/" + std::to_string(c->pid);
  CHECK(read_file(proc + "/comm") == "sleep\n");
  const std::string cmdline = read_file(proc + "/cmdline");
  CHECK(cmdline.rfind("sleep", 0) == 0);
  CHECK(cmdline.find('/') == std::string::npos);
  CHECK(read_file(proc + "/environ").find_first_not_of('\0') == std::string::npos);
  // Not dumpable: its /proc files belong to root, not to its user.
  struct stat st {};
  REQUIRE(::stat((proc + "/environ").c_str(), &st) == 0);
  CHECK(st.st_uid == 0);

  REQUIRE(release(*c));
  CHECK(wait_report(c->report.get()).kind == report_kind::exec_done);
  // After execve it is the program's own process: dumpable, its user's.
  REQUIRE(::stat((proc + "/environ").c_str(), &st) == 0);
  CHECK(st.st_uid == 1000);
  kill_and_reap(*c);
}
