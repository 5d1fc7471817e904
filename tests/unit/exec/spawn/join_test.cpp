// Joining namespaces that outlive a process: held network and UTS
// namespaces, a pod's shared pid namespace with its init, and a command
// exec'd into a running container.

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>

#include "spawn_fixture.hpp"

using namespace ringcri::exec;
using namespace spawn_test;

namespace {

// Network and UTS namespaces kept alive by bind mounts of their ns files,
// as the sandbox code holds a pod's.
class held_namespaces {
 public:
  explicit held_namespaces(const std::string& dir) : net_(dir + "/net"), uts_(dir + "/uts") {
    auto ready = make_pipe();
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      if (::unshare(CLONE_NEWNET | CLONE_NEWUTS) != 0) ::_exit(1);
      ::sethostname("held-uts", 8);
      ::write(ready.write.get(), "x", 1);
      ::pause();
      ::_exit(0);
    }
    ready.write.reset();
    char byte;
    REQUIRE(::read(ready.read.get(), &byte, 1) == 1);
    for (auto [kind, file] : {std::pair{"net", net_}, std::pair{"uts", uts_}}) {
      write_file(file, "");
      std::string src = "/proc/" + std::to_string(pid) + "/ns/" + kind;
      REQUIRE(::mount(src.c_str(), file.c_str(), nullptr, MS_BIND, nullptr) == 0);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  ~held_namespaces() {
    ::umount2(net_.c_str(), MNT_DETACH);
    ::umount2(uts_.c_str(), MNT_DETACH);
  }
  const std::string& net() const { return net_; }
  const std::string& uts() const { return uts_; }

 private:
  std::string net_, uts_;
};

std::string ns_name(const std::string& kind, const std::string& file) {
  struct stat st {};
  ::stat(file.c_str(), &st);
  return kind + ":[" + std::to_string(st.st_ino) + "]";
}

std::string last_field(const std::string& s) { return s.substr(s.rfind('\t') + 1); }

}  // namespace

TEST_CASE("a container joins held network and UTS namespaces", "[spawn][join]") {
  skip_unless_able();
  image img;
  temp_dir ns_dir;
  {
    held_namespaces held(ns_dir.path());
    auto spec = default_spec(img.rootfs("held"), {"sleep", "1000"});
    spec.namespaces = {
        {"mount", ""}, {"pid", ""}, {"ipc", ""}, {"network", held.net()}, {"uts", held.uts()}};
    child c = start(spec);
    CHECK(ns_link(c.pid, "net") == ns_name("net", held.net()));
    CHECK(ns_link(c.pid, "uts") == ns_name("uts", held.uts()));
    CHECK(ns_link(c.pid, "net") != ns_link(0, "net"));
    kill_and_reap(c);

    spec.rootfs = img.rootfs("held2");
    spec.process.args = {"hostname"};
    auto r = run(spec);
    INFO(r.created.message);
    CHECK(r.out == "held-uts\n");
  }
  CHECK(mounts_under(ns_dir.path()).empty());
  CHECK(mounts_under(img.dir()).empty());
}

TEST_CASE("two containers in a pod's pid namespace see each other and ringcri-init as pid 1",
          "[spawn][join]") {
  skip_unless_able();
  image img;
  temp_dir empty;
  auto init = clone_pod_init("pod-1", empty.path());
  REQUIRE(init);
  auto ready = wait_report(init->report.get());
  INFO(ready.message);
  REQUIRE(ready.kind == report_kind::ready);
  CHECK(wait_report(init->report.get()).kind == report_kind::exec_done);
  const std::string init_proc = "/proc/" + std::to_string(init->pid);
  CHECK(read_file(init_proc + "/comm") == "ringcri-init\n");
  CHECK(last_field(status_field(init->pid, "NSpid")) == "1");
  // It holds nothing: no capability in any set, no_new_privs, a filter,
  // a mount namespace of its own whose root is empty, and a command line
  // that names no host path.
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
    CHECK(status_field(init->pid, set) == "0000000000000000");
  CHECK(status_field(init->pid, "NoNewPrivs") == "1");
  CHECK(status_field(init->pid, "Seccomp") == "2");
  CHECK(ns_link(init->pid, "mnt") != ns_link(0, "mnt"));
  CHECK(std::filesystem::is_empty(init_proc + "/root"));
  CHECK(!std::filesystem::exists(init_proc + "/root/etc"));
  const std::string cmdline = read_file(init_proc + "/cmdline");
  CHECK(cmdline.rfind("ringcri-init", 0) == 0);
  CHECK(cmdline.find('/') == std::string::npos);
  CHECK(read_file(init_proc + "/environ").find_first_not_of('\0') == std::string::npos);
  // The host's mount namespace never saw its tmpfs.
  CHECK(mounts_under(empty.path()).empty());

  const std::string pid_ns = "/proc/" + std::to_string(init->pid) + "/ns/pid";
  auto spec_a = default_spec(img.rootfs("a"), {"sleep", "1000"});
  spec_a.namespaces[1] = {"pid", pid_ns};
  child a = start(spec_a);
  CHECK(ns_link(a.pid, "pid") == ns_link(init->pid, "pid"));
  // The keeper's child, not init's.
  CHECK(status_field(a.pid, "PPid") == std::to_string(::getpid()));
  const std::string a_in_pod = last_field(status_field(a.pid, "NSpid"));
  CHECK(a_in_pod != "1");

  auto spec_b = default_spec(img.rootfs("b"),
                             {"sh", "-c", "cat /proc/1/comm; cat /proc/" + a_in_pod + "/comm"});
  spec_b.namespaces[1] = {"pid", pid_ns};
  auto r = run(spec_b);
  INFO(r.created.message << r.err);
  CHECK(r.out == "ringcri-init\nsleep\n");
  // The keeper's own pid namespace is untouched by the dance.
  CHECK(ns_link(0, "pid_for_children") == ns_link(0, "pid"));

  // An orphan of a container comes to init, which reaps it: no zombie
  // stays below pid 1 of the pod.
  auto spec_c = default_spec(img.rootfs("c"), {"sh", "-c", "sleep 0.2 & exit 0"});
  spec_c.namespaces[1] = {"pid", pid_ns};
  auto orphaned = run(spec_c);
  INFO(orphaned.created.message);
  CHECK(orphaned.exit.code == 0);
  bool reaped = false;
  for (int i = 0; i < 1000 && !reaped; ++i) {
    std::string children = read_file(init_proc + "/task/" + std::to_string(init->pid) + "/children");
    reaped = children.empty();
    if (!reaped) ::usleep(10'000);
  }
  CHECK(reaped);

  kill_and_reap(a);
  // No handler: SIGTERM does not end it, even from the host; SIGKILL does.
  ::syscall(SYS_pidfd_send_signal, init->pidfd.get(), SIGTERM, nullptr, 0);
  ::syscall(SYS_pidfd_send_signal, init->pidfd.get(), SIGKILL, nullptr, 0);
  CHECK(reap(init->pidfd.get()).signal == SIGKILL);
}

TEST_CASE("clone_exec runs a command inside a running container", "[spawn][join]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("target"), {"sleep", "1000"});
  spec.hostname = "execbox";
  child c = start(spec);

  exec_spec e;
  e.container_id = spec.id;
  e.process = spec.process;
  e.process.args = {"sh", "-c", "hostname; cat /etc/layer; readlink /proc/self/ns/pid; pwd"};
  e.process.cwd = "/etc";
  auto out = make_pipe();
  auto x = clone_exec(e, c.pidfd.get(), stdio_fds{-1, out.write.get(), -1});
  REQUIRE(x);
  out.write.reset();
  auto started = wait_exec(*x);
  INFO(started.message);
  CHECK(started.kind == report_kind::exec_done);
  CHECK(read_all(out.read.get()) == "execbox\ntop\n" + ns_link(c.pid, "pid") + "\n/etc\n");
  CHECK(reap(x->pidfd.get()).code == 0);
  CHECK(status_field(x->pid, "Name").empty());  // reaped: gone

  e.process.args = {"sh", "-c", "exit 3"};
  auto y = clone_exec(e, c.pidfd.get(), {});
  REQUIRE(y);
  CHECK(wait_exec(*y).kind == report_kind::exec_done);
  CHECK(reap(y->pidfd.get()).code == 3);

  e.process.args = {"nosuch"};
  auto z = clone_exec(e, c.pidfd.get(), {});
  REQUIRE(z);
  auto failed = wait_exec(*z);
  CHECK(failed.kind == report_kind::error);
  CHECK(failed.message == "executable file \"nosuch\" not found in $PATH");
  CHECK(reap(z->pidfd.get()).code == 127);

  CHECK(ns_link(0, "pid_for_children") == ns_link(0, "pid"));
  kill_and_reap(c);
  CHECK(mounts_under(img.dir()).empty());
}
