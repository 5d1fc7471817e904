// Which seccomp profile a container gets, and what the default one allows.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "cri/spec/seccomp.hpp"
#include "cri/spec/seccomp_profile.hpp"

// The deprecated seccomp_profile_path is read too, as containerd does.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using namespace ringcri::cri::spec;
namespace v1 = runtime::v1;

namespace {

bool allows(const ringcri::exec::seccomp_spec& s, const std::string& name, bool unconditionally = true) {
  for (const auto& r : s.syscalls)
    if (r.action == "SCMP_ACT_ALLOW" && std::count(r.names.begin(), r.names.end(), name) &&
        (!unconditionally || r.args.empty()))
      return true;
  return false;
}

const std::vector<std::string> docker_default = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL"};

struct temp_file {
  std::string path;
  explicit temp_file(const std::string& text) {
    char name[] = "/tmp/ringcri-seccomp-XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    path = name;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("the default profile denies by EPERM and allows the everyday set") {
  auto s = runtime_default_profile(docker_default);
  CHECK(s.default_action == "SCMP_ACT_ERRNO");
  CHECK(s.default_errno_ret == EPERM);
  for (const char* name : {"read", "write", "openat", "execve", "mmap", "futex", "exit_group", "chroot"})
    CHECK(allows(s, name));
  for (const char* name : {"unshare", "setns", "mount", "ptrace", "reboot", "bpf", "init_module"})
    CHECK_FALSE(allows(s, name, false));
  // clone only without namespace flags; clone3 answers ENOSYS so libc falls back.
  CHECK(allows(s, "clone", false));
  CHECK_FALSE(allows(s, "clone"));
  auto clone3 = std::find_if(s.syscalls.begin(), s.syscalls.end(), [](const auto& r) {
    return std::count(r.names.begin(), r.names.end(), "clone3") > 0;
  });
  REQUIRE(clone3 != s.syscalls.end());
  CHECK(clone3->action == "SCMP_ACT_ERRNO");
  CHECK(clone3->errno_ret == ENOSYS);
}

TEST_CASE("capabilities in the bounding set unlock their system calls") {
  auto caps = docker_default;
  caps.push_back("CAP_SYS_ADMIN");
  caps.push_back("CAP_SYS_PTRACE");
  auto s = runtime_default_profile(caps);
  for (const char* name : {"unshare", "setns", "mount", "clone", "clone3", "ptrace"}) CHECK(allows(s, name));
  CHECK_FALSE(allows(runtime_default_profile({}), "chroot"));
}

TEST_CASE("the profile follows the security context") {
  v1::LinuxContainerSecurityContext sc;
  auto none = container_seccomp(sc, docker_default);
  REQUIRE(none);
  CHECK_FALSE(*none);  // nothing asked: unconfined, as containerd
  // Unless the runtime handler's default says otherwise.
  auto handler_default = container_seccomp(sc, docker_default, "runtime/default");
  REQUIRE(handler_default);
  REQUIRE(*handler_default);
  CHECK((*handler_default)->default_action == "SCMP_ACT_ERRNO");
  CHECK_FALSE(*container_seccomp(sc, docker_default, "unconfined"));

  sc.mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  auto def = container_seccomp(sc, docker_default);
  REQUIRE(def);
  REQUIRE(*def);
  CHECK((*def)->default_action == "SCMP_ACT_ERRNO");

  sc.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Unconfined);
  CHECK_FALSE(*container_seccomp(sc, docker_default));
  // An explicit choice wins over the handler's default.
  CHECK_FALSE(*container_seccomp(sc, docker_default, "runtime/default"));

  sc.mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  sc.set_privileged(true);
  CHECK_FALSE(*container_seccomp(sc, docker_default));

  v1::LinuxContainerSecurityContext old;
  old.set_seccomp_profile_path("runtime/default");
  CHECK(*container_seccomp(old, docker_default));
  old.set_seccomp_profile_path("unconfined");
  CHECK_FALSE(*container_seccomp(old, docker_default));
  old.set_seccomp_profile_path("bogus/profile");
  auto bogus = container_seccomp(old, docker_default);
  REQUIRE_FALSE(bogus);
  CHECK(bogus.error().kind() == ringcri::error_kind::invalid_argument);
}

TEST_CASE("a Localhost profile is read from its file, with argument conditions") {
  temp_file f(R"({"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
    "syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
                {"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]})");
  v1::LinuxContainerSecurityContext sc;
  sc.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
  sc.mutable_seccomp()->set_localhost_ref(f.path);
  auto p = container_seccomp(sc, docker_default);
  REQUIRE(p);
  REQUIRE(*p);
  CHECK((*p)->default_action == "SCMP_ACT_ALLOW");
  REQUIRE((*p)->syscalls.size() == 2);
  CHECK((*p)->syscalls[0].names == std::vector<std::string>{"mkdir", "mkdirat"});
  CHECK((*p)->syscalls[0].errno_ret == 13);
  REQUIRE((*p)->syscalls[1].args.size() == 1);
  CHECK((*p)->syscalls[1].args[0].value == 8);
  CHECK((*p)->syscalls[1].args[0].op == "SCMP_CMP_EQ");

  v1::LinuxContainerSecurityContext old;
  old.set_seccomp_profile_path("localhost/" + f.path);
  auto via_path = container_seccomp(old, docker_default);
  REQUIRE(via_path);
  CHECK(*via_path);
}

TEST_CASE("a Localhost profile that is missing or is not a profile is INVALID_ARGUMENT naming it") {
  v1::LinuxContainerSecurityContext sc;
  sc.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
  sc.mutable_seccomp()->set_localhost_ref("/nonexistent/profile.json");
  auto missing = container_seccomp(sc, docker_default);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind() == ringcri::error_kind::invalid_argument);
  CHECK(missing.error().message().find("/nonexistent/profile.json") != std::string::npos);

  temp_file junk("{not json");
  sc.mutable_seccomp()->set_localhost_ref(junk.path);
  auto bad = container_seccomp(sc, docker_default);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find(junk.path) != std::string::npos);

  temp_file no_action(R"({"syscalls":[]})");
  sc.mutable_seccomp()->set_localhost_ref(no_action.path);
  CHECK_FALSE(container_seccomp(sc, docker_default));

  sc.mutable_seccomp()->set_localhost_ref("relative.json");
  CHECK_FALSE(container_seccomp(sc, docker_default));
}

// Regression (seccomp-arg-float-out-of-range): an argument's index or
// value, or an errnoRet, given as a float was converted to the integer
// field with json's get<>(), undefined behaviour out of range. A profile
// with a float anywhere is refused.
TEST_CASE("seccomp-arg-float-out-of-range: a profile with a float number is INVALID_ARGUMENT") {
  for (const char* text :
       {R"({"defaultAction":"SCMP_ACT_ALLOW","defaultErrnoRet":1e300})",
        R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kill"],"action":"SCMP_ACT_ERRNO","errnoRet":-1e20}]})",
        R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[{"index":1e300,"value":8,"op":"SCMP_CMP_EQ"}]}]})",
        R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":8.5,"op":"SCMP_CMP_EQ"}]}]})"}) {
    INFO(text);
    auto p = parse_seccomp_profile(text);
    REQUIRE_FALSE(p);
    CHECK(p.error().kind() == ringcri::error_kind::invalid_argument);
    CHECK(p.error().message().find("not an integer") != std::string::npos);
  }
  auto fine = parse_seccomp_profile(
      R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[{"name":"read","action":"SCMP_ACT_ALLOW"}]})");
  REQUIRE(fine);
  CHECK(fine->default_errno_ret == 38);
  REQUIRE(fine->syscalls.size() == 1);
  CHECK(fine->syscalls[0].names == std::vector<std::string>{"read"});
}
