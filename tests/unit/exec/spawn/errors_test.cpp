// Failures of a container's setup: reported on the report pipe with the
// path and errno at fault, before the release; the child gone, nothing
// left mounted on the host.

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cerrno>

#include "spawn_fixture.hpp"

using namespace ringcri::exec;
using namespace spawn_test;

TEST_CASE("a missing bind source is reported with its path and ENOENT, leaving no mount",
          "[spawn]") {
  skip_unless_able();
  image img;
  auto before = mounts_under(img.dir());
  auto spec = default_spec(img.rootfs("nobind"), {"true"});
  spec.mounts.push_back({"/data", "bind", "/nonexistent-ringcri-source", {"rbind", "ro"}});
  auto r = run(spec);
  CHECK(r.created.kind == report_kind::error);
  CHECK(r.created.sys_errno == ENOENT);
  CHECK(r.created.message ==
        "mount bind \"/nonexistent-ringcri-source\" on \"/data\": No such file or directory");
  CHECK(r.exit.code == 127);
  CHECK(mounts_under(img.dir()) == before);
  CHECK(mounts_under(img.dir()).empty());
}

TEST_CASE("a command not in PATH is reported at create, before the release", "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("nosuch"), {"nosuch"});
  auto r = run(spec);
  CHECK(r.created.kind == report_kind::error);
  CHECK(r.created.sys_errno == ENOENT);
  CHECK(r.created.message == "executable file \"nosuch\" not found in $PATH");
  CHECK(r.exit.code == 127);

  spec.rootfs = img.rootfs("noexec");
  spec.process.args = {"/etc/passwd"};
  r = run(spec);
  CHECK(r.created.kind == report_kind::error);
  CHECK(r.created.sys_errno == EACCES);
  CHECK(r.created.message == "\"/etc/passwd\": Permission denied");
}

TEST_CASE("a container removed before its release exits quietly", "[spawn]") {
  skip_unless_able();
  image img;
  auto c = clone_container(default_spec(img.rootfs("removed"), {"true"}), {});
  REQUIRE(c);
  REQUIRE(wait_report(c->report.get()).kind == report_kind::ready);
  c->release.reset();  // closed without a byte
  CHECK(wait_report(c->report.get()).kind == report_kind::exec_done);
  auto e = reap(c->pidfd.get());
  CHECK(e.code == 0);
  CHECK(mounts_under(img.dir()).empty());
}

TEST_CASE("release twice is refused; release of a dead child is an error, not SIGPIPE", "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("dead"), {"true"});
  spec.mounts.push_back({"/data", "bind", "/nonexistent-ringcri-source", {"rbind"}});
  auto c = clone_container(spec, {});
  REQUIRE(c);
  REQUIRE(wait_report(c->report.get()).kind == report_kind::error);
  reap(c->pidfd.get());
  CHECK(!release(*c));
  CHECK(!release(*c));
}

TEST_CASE("a failing mount of a file system names the type and the destination", "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("badfs"), {"true"});
  spec.mounts.push_back({"/x", "nosuchfs", "none", {}});
  auto r = run(spec);
  CHECK(r.created.kind == report_kind::error);
  CHECK(r.created.message.find("mount nosuchfs on \"/x\": ") == 0);
  CHECK(r.exit.code == 127);
}

TEST_CASE("a spec without its own mount namespace is refused by the parent", "[spawn]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("nomnt"), {"true"});
  spec.namespaces = {{"pid", ""}};
  auto c = clone_container(spec, {});
  REQUIRE(!c);
  CHECK(c.error().message().find("mount namespace") != std::string::npos);
}

TEST_CASE("an execve that fails after the release is reported with the path", "[spawn]") {
  skip_unless_able();
  image img;
  auto rootfs = img.rootfs("notelf");
  write_file(rootfs.upper + "/notelf", "neither ELF nor a script\n");
  ::chmod((rootfs.upper + "/notelf").c_str(), 0755);
  auto r = run(default_spec(rootfs, {"/notelf"}));
  CHECK(r.created.kind == report_kind::ready);
  CHECK(r.started.kind == report_kind::error);
  CHECK(r.started.sys_errno == ENOEXEC);
  CHECK(r.started.message == "exec \"/notelf\": Exec format error");
  CHECK(r.exit.code == 127);
}
