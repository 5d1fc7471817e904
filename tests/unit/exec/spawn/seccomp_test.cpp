// seccomp: a profile's rule takes effect in the container's process, with
// and without no_new_privs.

#include <catch2/catch.hpp>

#include "spawn_fixture.hpp"

using namespace ringcri::exec;
using namespace spawn_test;

namespace {
seccomp_spec deny_mkdir() {
  seccomp_spec s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = {{{"mkdir", "mkdirat", "no_such_syscall_in_any_kernel"}, "SCMP_ACT_ERRNO", 1, {}}};
  return s;
}

// chmod(path, mode) and fchmodat(dirfd, path, mode): denied only for mode 0700.
seccomp_spec deny_private_chmod() {
  seccomp_spec s;
  s.default_action = "SCMP_ACT_ALLOW";
  seccomp_arg mode;
  mode.index = 2;
  mode.value = 0700;
  mode.op = "SCMP_CMP_EQ";
  seccomp_arg mode1 = mode;
  mode1.index = 1;
  s.syscalls = {{{"fchmodat", "fchmodat2"}, "SCMP_ACT_ERRNO", 13, {mode}}, {{"chmod"}, "SCMP_ACT_ERRNO", 13, {mode1}}};
  return s;
}
}  // namespace

TEST_CASE("a seccomp ERRNO rule for mkdir makes mkdir fail with EPERM", "[spawn][seccomp]") {
  skip_unless_able();
  image img;
  for (bool nnp : {false, true}) {
    INFO("no_new_privileges " << nnp);
    auto spec = default_spec(img.rootfs(nnp ? "nnp" : "privs"), {"mkdir", "/tmp/d"});
    spec.process.no_new_privileges = nnp;
    spec.process.seccomp = deny_mkdir();
    auto r = run(spec);
    INFO(r.created.message << r.started.message);
    CHECK(r.started.kind == report_kind::exec_done);
    CHECK(r.exit.code == 1);
    CHECK(r.err.find("Operation not permitted") != std::string::npos);
  }
}

TEST_CASE("a rule with an argument condition applies only when it holds", "[spawn][seccomp]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("args"),
                           {"sh", "-c", "touch /tmp/f; chmod 755 /tmp/f && echo open-ok; chmod 700 /tmp/f || echo private-denied"});
  spec.process.seccomp = deny_private_chmod();
  auto r = run(spec);
  INFO(r.out << r.err);
  CHECK(r.out.find("open-ok") != std::string::npos);
  CHECK(r.out.find("private-denied") != std::string::npos);
  CHECK(r.err.find("Permission denied") != std::string::npos);
}

TEST_CASE("without the rule mkdir works", "[spawn][seccomp]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("allowed"), {"mkdir", "/tmp/d"});
  spec.process.seccomp = seccomp_spec{"SCMP_ACT_ALLOW", 1, {}};
  auto r = run(spec);
  CHECK(r.exit.code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("a profile with an unknown action is refused before the clone", "[spawn][seccomp]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("badaction"), {"true"});
  spec.process.seccomp = seccomp_spec{"SCMP_ACT_BOGUS", 1, {}};
  auto c = clone_container(spec, {});
  REQUIRE(!c);
  CHECK(c.error().message().find("SCMP_ACT_BOGUS") != std::string::npos);
}

// No ": " in a test's name: Catch2's console reporter indents the wrapped
// lines of a failing test's name to just after it, and asserts (aborting
// the run) when that is wider than the console.
TEST_CASE(
    "without no_new_privs the filter is loaded before the user switch, so a created container "
    "waits already confined and the switch's failure is reported at create",
    "[spawn][seccomp]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("early"), {"true"});
  // Everything but writing the report and exiting fails with EPERM: the
  // first step after the filter (the bounding set) is refused.
  std::vector<std::string> allowed{"write", "exit_group"};
#if defined(__SANITIZE_ADDRESS__)
  // ASan's runtime calls sigaltstack before every noreturn call (here the
  // child's _exit after its report) and, when that fails, dies before the
  // report is written. The query changes nothing this test checks.
  allowed.push_back("sigaltstack");
#endif
  spec.process.seccomp = seccomp_spec{"SCMP_ACT_ERRNO", 1, {{allowed, "SCMP_ACT_ALLOW", 1, {}}}};
  auto r = run(spec);
  CHECK(r.created.kind == report_kind::error);
  CHECK(r.created.sys_errno == EPERM);
  CHECK(r.created.message.find("bounding set") != std::string::npos);
  CHECK(r.exit.code == 127);
}
