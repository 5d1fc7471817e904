// Running one plugin executable, with shell scripts standing in for real
// plugins: the CNI_* environment and nothing else, stdin, the CNI error
// JSON and plain stderr turned into errors with the plugin's words, a
// large stderr read without stalling, the timeout killing the plugin, and
// a plugin that is not there named with the dirs searched.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "net/cni/plugin.hpp"
#include "support/temp_dir.hpp"

namespace cni = ringcri::net::cni;
namespace fs = std::filesystem;
using ringcri::testing::temp_dir;
using nlohmann::json;
using ringcri::error_kind;

namespace {

void write_plugin(const temp_dir& dir, const std::string& name, const std::string& body) {
  auto p = dir.write(name, "#!/bin/sh\n" + body);
  ::chmod(p.c_str(), 0755);
}

cni::invocation call(const temp_dir& dir, const std::string& type) {
  cni::invocation inv;
  inv.cmd = cni::command::add;
  inv.type = type;
  inv.plugin_dirs = {(dir.path() / "empty").string(), dir.path().string()};
  inv.container_id = "c0ffee";
  inv.netns_path = "/run/netns/test";
  inv.ifname = "eth0";
  inv.args = "IgnoreUnknown=1;K8S_POD_NAME=web";
  inv.stdin_json = R"({"cniVersion":"1.0.0","name":"n","type":"x"})";
  inv.timeout = std::chrono::seconds(10);
  return inv;
}

}  // namespace

TEST_CASE("the plugin gets the CNI environment, its config on stdin, and no other fd", "[plugin]") {
  temp_dir dir;
  write_plugin(dir, "reporter", R"sh(
stdin=$(cat)
leak=no; [ -e /proc/$$/fd/100 ] && leak=yes
secret=${RINGCRI_CNI_TEST_SECRET:-unset}
mask=$(sed -n 's/^SigBlk:[[:space:]]*//p' /proc/$$/status)
printf '{"command":"%s","id":"%s","netns":"%s","ifname":"%s","args":"%s","path":"%s","stdin":%s,"leak":"%s","secret":"%s","has_path":"%s","mask":"%s","cwd":"%s"}' \
  "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_ARGS" "$CNI_PATH" "$stdin" \
  "$leak" "$secret" "${PATH:+yes}" "$mask" "$(pwd)"
)sh");
  // An fd without CLOEXEC and a variable the plugin must not see, and a
  // blocked signal it must not inherit blocked.
  int devnull = ::open("/dev/null", O_RDONLY);
  REQUIRE(::dup2(devnull, 100) == 100);
  ::close(devnull);
  ::setenv("RINGCRI_CNI_TEST_SECRET", "visible", 1);
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &term, &old);

  auto out = cni::invoke_plugin(call(dir, "reporter"));

  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::unsetenv("RINGCRI_CNI_TEST_SECRET");
  ::close(100);

  REQUIRE(out.has_value());
  json doc = json::parse(*out, nullptr, false);
  REQUIRE(doc.is_object());
  CHECK(doc["command"] == "ADD");
  CHECK(doc["id"] == "c0ffee");
  CHECK(doc["netns"] == "/run/netns/test");
  CHECK(doc["ifname"] == "eth0");
  CHECK(doc["args"] == "IgnoreUnknown=1;K8S_POD_NAME=web");
  CHECK(doc["path"] == (dir.path() / "empty").string() + ":" + dir.path().string());
  CHECK(doc["stdin"]["name"] == "n");
  CHECK(doc["leak"] == "no");
  CHECK(doc["secret"] == "unset");
  CHECK(doc["has_path"] == "yes");
  CHECK(doc["mask"] == "0000000000000000");
  CHECK(doc["cwd"] == "/");
}

TEST_CASE("every command is passed by its CNI name", "[plugin]") {
  temp_dir dir;
  write_plugin(dir, "cmd", "cat >/dev/null; printf '\"%s\"' \"$CNI_COMMAND\"\n");
  for (auto [cmd, name] : {std::pair{cni::command::add, "ADD"},
                           {cni::command::del, "DEL"},
                           {cni::command::check, "CHECK"},
                           {cni::command::version, "VERSION"}}) {
    auto inv = call(dir, "cmd");
    inv.cmd = cmd;
    auto out = cni::invoke_plugin(inv);
    REQUIRE(out.has_value());
    CHECK(*out == std::string("\"") + name + "\"");
  }
}

TEST_CASE("a CNI error on stdout becomes the error message", "[plugin]") {
  temp_dir dir;
  write_plugin(dir, "failing", R"sh(
cat >/dev/null
echo '{"cniVersion":"1.0.0","code":7,"msg":"invalid range","details":"10.1.0.0/33 is not a subnet"}'
exit 1
)sh");
  auto out = cni::invoke_plugin(call(dir, "failing"));
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().message() == "plugin failing: invalid range: 10.1.0.0/33 is not a subnet");
  CHECK(out.error().kind() == error_kind::invalid_argument);

  write_plugin(dir, "failing2", R"sh(
echo '{"code":999,"msg":"failed to set bridge addr"}'
exit 1
)sh");
  auto out2 = cni::invoke_plugin(call(dir, "failing2"));
  REQUIRE_FALSE(out2.has_value());
  CHECK(out2.error().message() == "plugin failing2: failed to set bridge addr");
  CHECK(out2.error().kind() == error_kind::internal);
}

TEST_CASE("without a CNI error, stderr (or stdout) is the message", "[plugin]") {
  temp_dir dir;
  write_plugin(dir, "stderr", "echo 'panic: boom' >&2\nexit 2\n");
  auto out = cni::invoke_plugin(call(dir, "stderr"));
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().message() == "plugin stderr: panic: boom (exit status 2)");

  write_plugin(dir, "stdout", "echo 'something odd'\nexit 3\n");
  auto out2 = cni::invoke_plugin(call(dir, "stdout"));
  REQUIRE_FALSE(out2.has_value());
  CHECK(out2.error().message() == "plugin stdout: something odd (exit status 3)");

  write_plugin(dir, "silent", "exit 4\n");
  auto out3 = cni::invoke_plugin(call(dir, "silent"));
  REQUIRE_FALSE(out3.has_value());
  CHECK(out3.error().message() == "plugin silent: exit status 4");

  write_plugin(dir, "killed", "kill -9 $$\n");
  auto out4 = cni::invoke_plugin(call(dir, "killed"));
  REQUIRE_FALSE(out4.has_value());
  CHECK(out4.error().message() == "plugin killed: killed by signal 9");
}

TEST_CASE("a plugin writing megabytes to stderr does not stall", "[plugin]") {
  temp_dir dir;
  write_plugin(dir, "noisy", R"sh(
head -c 3000000 /dev/zero | tr '\0' x >&2
head -c 200000 /dev/zero | tr '\0' ' '
echo '{"cniVersion":"1.0.0"}'
)sh");
  auto out = cni::invoke_plugin(call(dir, "noisy"));
  REQUIRE(out.has_value());
  CHECK(out->size() == 200000 + std::string("{\"cniVersion\":\"1.0.0\"}\n").size());
  CHECK(json::parse(*out, nullptr, false)["cniVersion"] == "1.0.0");
}

TEST_CASE("a large config reaches the plugin whole", "[plugin]") {
  temp_dir dir;
  write_plugin(dir, "count", "wc -c\n");
  auto inv = call(dir, "count");
  inv.stdin_json = R"({"pad":")" + std::string(300000, 'p') + R"("})";
  auto out = cni::invoke_plugin(inv);
  REQUIRE(out.has_value());
  CHECK(std::stoul(*out) == inv.stdin_json.size());
}

TEST_CASE("a plugin past its timeout is killed with its children", "[plugin]") {
  temp_dir dir;
  auto pidfile = dir.path() / "child.pid";
  // It never ends by itself: only the timeout can end the call.
  write_plugin(dir, "hangs", "sleep 100000 &\necho $! > " + pidfile.string() + "\nwait\n");
  auto inv = call(dir, "hangs");
  inv.timeout = std::chrono::milliseconds(300);
  auto out = cni::invoke_plugin(inv);
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().kind() == error_kind::deadline_exceeded);
  CHECK_THAT(out.error().message(), Catch::Contains("plugin hangs: ADD did not finish in 300 ms"));
  // The sleep was in the plugin's process group: gone too (or a zombie
  // waiting for init).
  std::ifstream in(pidfile);
  pid_t child = 0;
  in >> child;
  REQUIRE(child > 0);
  for (int i = 0; i < 100 && ::kill(child, 0) == 0; ++i) {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string pid, comm, state;
    stat >> pid >> comm >> state;
    if (state == "Z" || state.empty()) break;
    ::usleep(10000);
  }
  std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
  std::string pid, comm, state;
  stat >> pid >> comm >> state;
  CHECK((state.empty() || state == "Z"));
}

TEST_CASE("a plugin that exits leaving a child holding stdout returns at once", "[plugin]") {
  temp_dir dir;
  auto pidfile = dir.path() / "child.pid";
  // The child never closes stdout by itself: waiting for the end of the
  // output would last until the call's timeout (10 s), which fails it.
  write_plugin(
      dir, "forks",
      "sleep 100000 &\necho $! > " + pidfile.string() + "\necho '{\"cniVersion\":\"1.0.0\"}'\n");
  auto out = cni::invoke_plugin(call(dir, "forks"));
  pid_t child = 0;
  std::ifstream(pidfile) >> child;
  if (child > 0) ::kill(child, SIGKILL);
  INFO((out ? "" : out.error().message()));
  REQUIRE(out.has_value());
  CHECK_THAT(*out, Catch::Contains("1.0.0"));
}

TEST_CASE("a plugin that is not there is named with the dirs searched", "[plugin]") {
  temp_dir dir;
  dir.write("not-executable", "#!/bin/sh\n");
  for (const char* type : {"nope", "not-executable"}) {
    auto out = cni::invoke_plugin(call(dir, type));
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().kind() == error_kind::not_found);
    CHECK(out.error().message() == std::string("plugin \"") + type + "\" not found in " +
                                       (dir.path() / "empty").string() + ":" + dir.path().string());
  }
  for (const char* type : {"", "..", "../bin/sh", "/bin/sh"}) {
    auto out = cni::invoke_plugin(call(dir, type));
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().kind() == error_kind::invalid_argument);
  }
}
