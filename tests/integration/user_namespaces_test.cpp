// Pods in user namespaces (hostUsers: false, NamespaceOption.userns_options
// mode POD), checked from outside: the container's maps, the owners of its
// files on the host and inside, a host path mounted into it, the owner of
// the pod's namespaces, the refusals the CRI specifies, a daemon restart,
// and nothing left once the pod is removed.

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <regex>

#include "support/runtime_fixture.hpp"
#include "support/stream_client.hpp"

using namespace ringcri::testing;

namespace {

constexpr std::uint32_t host_base = 200000;  // ids no user of the machine has
constexpr std::uint32_t range = 65536;

void set_userns(v1::NamespaceOption* ns, std::uint32_t host, v1::NamespaceMode mode = v1::POD) {
  auto* u = ns->mutable_userns_options();
  u->set_mode(mode);
  for (auto* m : {u->add_uids(), u->add_gids()}) {
    m->set_container_id(0);
    m->set_host_id(host);
    m->set_length(range);
  }
}

v1::PodSandboxConfig userns_pod(runtime_fixture& f, const std::string& name) {
  auto config = f.pod_config(name);
  set_userns(config.mutable_linux()->mutable_security_context()->mutable_namespace_options(),
             host_base);
  return config;
}

// Skips the binary when the daemon does not offer user namespaces here.
void need_userns(runtime_fixture& f) {
  v1::StatusRequest req;
  req.set_verbose(true);
  v1::StatusResponse resp;
  REQUIRE(f.client.runtime_call(&S::Status, req, &resp).ok());
  REQUIRE(resp.runtime_handlers_size() > 0);
  // The key critest reads to find the file system of the rootfs.
  REQUIRE(resp.info().count("config"));
  CHECK(nlohmann::json::parse(resp.info().at("config")).at("stateDir") ==
        f.daemon.state().string());
  if (!resp.runtime_handlers(0).features().user_namespaces())
    skip_binary("the daemon reports no user namespace support on this node");
}

// "0 200000 65536" however the kernel pads it.
std::string squeeze(const std::string& s) {
  return std::regex_replace(std::regex_replace(s, std::regex("[ \t]+"), " "), std::regex("^ |\n$"),
                            "");
}

std::string exec_ok(runtime_fixture& f, const std::string& id, std::vector<std::string> cmd) {
  grpc::Status st;
  auto out = f.exec(id, std::move(cmd), &st);
  INFO(st.error_message() << " stderr: " << out.stderr());
  REQUIRE(st.ok());
  INFO(out.stderr());
  REQUIRE(out.exit_code() == 0);
  return out.stdout();
}

struct stat stat_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

// The inode of the user namespace owning the namespace at `path`.
ino_t owner_of(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  int owner = ::ioctl(fd, NS_GET_USERNS);
  ::close(fd);
  REQUIRE(owner >= 0);
  struct stat st {};
  REQUIRE(::fstat(owner, &st) == 0);
  ::close(owner);
  return st.st_ino;
}

grpc::StatusCode run_pod_code(runtime_fixture& f, const v1::UserNamespace& u,
                              bool host_network = false) {
  auto config = f.pod_config("refused");
  auto* ns = config.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  *ns->mutable_userns_options() = u;
  if (host_network) ns->set_network(v1::NODE);
  std::string id;
  auto st = f.run_pod(config, &id);
  INFO(st.error_message());
  return st.error_code();
}

}  // namespace

TEST_CASE("a pod in a user namespace: maps, owners, host mounts and the pod's namespaces") {
  runtime_fixture f;
  need_userns(f);
  temp_dir host_dir{"ringcri-userns-vol"};
  const fs::path vol = host_dir.path() / "vol";
  fs::create_directories(vol);
  { std::ofstream(vol / "by-1234") << "x"; }
  REQUIRE(::chown((vol / "by-1234").c_str(), 1234, 1234) == 0);

  auto pod_config = userns_pod(f, "userns");
  std::string pod;
  auto st = f.run_pod(pod_config, &pod);
  INFO(st.error_message());
  REQUIRE(st.ok());
  auto config = f.container_config("c", {"sleep", "1000"});
  // The container names the pod's user namespace, as kubelet does.
  set_userns(config.mutable_linux()->mutable_security_context()->mutable_namespace_options(),
             host_base);
  // CAP_NET_ADMIN of the pod's user namespace, to show that it reaches the
  // pod's network namespace.
  config.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_add_capabilities(
      "NET_ADMIN");
  auto* m = config.add_mounts();
  m->set_host_path(vol.string());
  m->set_container_path("/mnt/vol");
  auto id = f.create_and_start(pod, pod_config, config);
  const std::string pid = f.pid_of(id);

  SECTION("the container's process and an exec show the pod's maps") {
    CHECK(squeeze(read_file(fs::path("/proc") / pid / "uid_map")) == "0 200000 65536");
    CHECK(squeeze(read_file(fs::path("/proc") / pid / "gid_map")) == "0 200000 65536");
    CHECK(squeeze(exec_ok(f, id, {"cat", "/proc/self/uid_map"})) == "0 200000 65536");
    CHECK(squeeze(exec_ok(f, id, {"cat", "/proc/self/gid_map"})) == "0 200000 65536");
    // Root inside is the mapped host uid outside.
    CHECK(read_file(fs::path("/proc") / pid / "status").find("Uid:\t200000\t200000") !=
          std::string::npos);
    CHECK(exec_ok(f, id, {"id", "-u"}) == "0\n");
  }

  SECTION(
      "the image's files are root's inside; what the container writes is the mapped root's on the "
      "host") {
    CHECK(exec_ok(f, id, {"stat", "-c", "%u:%g", "/bin/busybox"}) == "0:0\n");
    exec_ok(f, id, {"touch", "/made-inside"});
    const fs::path upper = f.daemon.root() / "containers" / id / "upper";
    CHECK(stat_of(upper / "made-inside").st_uid == host_base);
    CHECK(stat_of(upper / "made-inside").st_gid == host_base);
    CHECK(exec_ok(f, id, {"stat", "-c", "%u", "/made-inside"}) == "0\n");
  }

  SECTION("a host path is mounted idmapped: its owners show as they are on disk") {
    CHECK(exec_ok(f, id, {"stat", "-c", "%u:%g", "/mnt/vol/by-1234"}) == "1234:1234\n");
    exec_ok(f, id, {"touch", "/mnt/vol/made-inside"});
    // Root inside writes as uid 0 on the host's disk, through the idmap.
    CHECK(stat_of(vol / "made-inside").st_uid == 0);
    // The pod's own files (hosts, resolv.conf) are root's inside.
    CHECK(exec_ok(f, id, {"stat", "-c", "%u", "/etc/hosts"}) == "0\n");
  }

  SECTION("the pod's namespaces are owned by its user namespace") {
    const fs::path ns = fs::path("/proc") / pid / "ns";
    const ino_t user = inode_of(ns / "user");
    CHECK(user != inode_of("/proc/self/ns/user"));
    CHECK(owner_of(ns / "net") == user);
    CHECK(owner_of(ns / "ipc") == user);
    CHECK(owner_of(ns / "uts") == user);
    // And the container's capabilities reach its network namespace.
    exec_ok(f, id, {"ip", "link", "set", "lo", "mtu", "1400"});
  }

  SECTION("an exec's terminal belongs to the user it runs as, in the pod's ids") {
    v1::ExecRequest req;
    req.set_container_id(id);
    for (const char* a : {"sh", "-c", "stat -L -c %u /proc/self/fd/1"}) req.add_cmd(a);
    req.set_stdin(true);  // a terminal is stdin too, as kubectl -it asks
    req.set_stdout(true);
    req.set_tty(true);
    v1::ExecResponse resp;
    auto exec_st = f.client.runtime_call(&S::Exec, req, &resp);
    INFO(exec_st.error_message());
    REQUIRE(exec_st.ok());
    spdy_client c(resp.url(), {"v4.channel.k8s.io"});
    REQUIRE(c.response().status == 101);
    auto error = c.open_stream({{"streamtype", "error"}});
    auto in = c.open_stream({{"streamtype", "stdin"}});
    auto out = c.open_stream({{"streamtype", "stdout"}});
    (void)c.open_stream({{"streamtype", "resize"}});
    c.send_data(in, "", true);
    REQUIRE(c.wait([&] { return c.finished.count(error) > 0; }, 20s));
    INFO("out: " << c.data[out] << " error: " << c.data[error]);
    CHECK(c.data[out].find("0\r\n") == 0);
  }

  SECTION("/dev, /dev/shm and a device node belong to the pod's root") {
    CHECK(exec_ok(f, id, {"stat", "-c", "%u", "/dev", "/dev/shm", "/dev/null"}) == "0\n0\n0\n");
    CHECK(exec_ok(f, id, {"sh", "-c", "echo hi > /dev/null && echo ok"}) == "ok\n");
  }

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("a pod in a user namespace keeps working across a daemon restart") {
  runtime_fixture f;
  need_userns(f);
  auto pod_config = userns_pod(f, "userns-restart");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto id = f.create_and_start(pod, pod_config, f.container_config("c", {"sleep", "1000"}));

  f.daemon.restart();
  f.client.reconnect();
  CHECK(squeeze(exec_ok(f, id, {"cat", "/proc/self/uid_map"})) == "0 200000 65536");
  // A container made after the restart joins the same user namespace.
  auto second = f.create_and_start(pod, pod_config, f.container_config("d", {"sleep", "1000"}));
  CHECK(inode_of(fs::path("/proc") / f.pid_of(second) / "ns" / "user") ==
        inode_of(fs::path("/proc") / f.pid_of(id) / "ns" / "user"));
  CHECK(squeeze(exec_ok(f, second, {"cat", "/proc/self/uid_map"})) == "0 200000 65536");

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("user namespace options the CRI refuses are INVALID_ARGUMENT") {
  runtime_fixture f;
  need_userns(f);
  v1::UserNamespace two;
  two.set_mode(v1::POD);
  for (std::uint32_t host : {1000u, 2000u})
    for (auto* m : {two.add_uids(), two.add_gids()}) {
      m->set_container_id(0);
      m->set_host_id(host);
      m->set_length(100000);
    }
  CHECK(run_pod_code(f, two) == grpc::StatusCode::INVALID_ARGUMENT);

  v1::UserNamespace unmapped_root;
  unmapped_root.set_mode(v1::POD);
  for (auto* m : {unmapped_root.add_uids(), unmapped_root.add_gids()}) {
    m->set_container_id(1);
    m->set_host_id(1000);
    m->set_length(100000);
  }
  CHECK(run_pod_code(f, unmapped_root) == grpc::StatusCode::INVALID_ARGUMENT);

  v1::UserNamespace container;
  container.set_mode(v1::CONTAINER);
  CHECK(run_pod_code(f, container) == grpc::StatusCode::INVALID_ARGUMENT);
  v1::UserNamespace target;
  target.set_mode(v1::TARGET);
  CHECK(run_pod_code(f, target) == grpc::StatusCode::INVALID_ARGUMENT);

  v1::UserNamespace pod_mode;
  pod_mode.set_mode(v1::POD);
  for (auto* m : {pod_mode.add_uids(), pod_mode.add_gids()}) {
    m->set_container_id(0);
    m->set_host_id(host_base);
    m->set_length(range);
  }
  CHECK(run_pod_code(f, pod_mode, /*host_network=*/true) == grpc::StatusCode::INVALID_ARGUMENT);

  // NODE is the host's user namespace, as with no options at all.
  auto config = f.pod_config("node-userns");
  config.mutable_linux()
      ->mutable_security_context()
      ->mutable_namespace_options()
      ->mutable_userns_options()
      ->set_mode(v1::NODE);
  std::string pod;
  auto st = f.run_pod(config, &pod);
  INFO(st.error_message());
  REQUIRE(st.ok());
  auto id = f.create_and_start(pod, config, f.container_config("c", {"sleep", "1000"}));
  CHECK(inode_of(fs::path("/proc") / f.pid_of(id) / "ns" / "user") ==
        inode_of("/proc/self/ns/user"));
  f.remove_pod(pod);
  f.check_nothing_left();
}
