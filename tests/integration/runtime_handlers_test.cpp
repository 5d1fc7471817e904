// Runtime handlers (a RuntimeClass's `handler`): the default one and those
// of [runtimes."<name>"] in the config, as Status lists them, as pods keep
// them, and the seccomp default a handler gives containers that ask for
// none, checked in /proc of the container's process. With them, the rest
// of what Status and the pod RPCs answer about the runtime: the verbose
// config's dirs and UpdatePodSandboxResources.

#include <sys/syscall.h>

#include "support/runtime_fixture.hpp"

using namespace ringcri::testing;

namespace {

// A config with one handler whose containers get runtime/default unless
// they ask otherwise. Made before the daemon starts.
struct handler_config {
  temp_dir dir{"ringcri-handlers"};
  fs::path file = dir.path() / "ringcri.toml";
  handler_config() {
    std::ofstream(file) << "[runtimes.hardened]\nseccomp_profile = \"runtime/default\"\n";
  }
};

std::string seccomp_mode(runtime_fixture& f, const std::string& id) {
  const auto status = read_file("/proc/" + f.pid_of(id) + "/status");
  auto at = status.find("Seccomp:\t");
  REQUIRE(at != std::string::npos);
  return status.substr(at + 9, 1);
}

bool kernel_has_mount_setattr() {
  return ::syscall(442 /* mount_setattr */, -1, "", 0x1000 /* AT_EMPTY_PATH */, nullptr, 0) == 0 ||
         errno != ENOSYS;
}

}  // namespace

TEST_CASE("runtime handlers: Status lists each with its features; pods keep theirs") {
  skip_unless_ready();
  handler_config cfg;
  runtime_fixture f({"--config", cfg.file.string()});

  v1::StatusResponse status;
  REQUIRE(f.client.runtime_call(&S::Status, v1::StatusRequest{}, &status).ok());
  std::vector<std::string> names;
  for (const auto& h : status.runtime_handlers()) {
    names.push_back(h.name());
    CHECK(h.features().recursive_read_only_mounts() == kernel_has_mount_setattr());
    // A node-wide answer (the start-up probe): the same for every handler.
    CHECK(h.features().user_namespaces() ==
          status.runtime_handlers(0).features().user_namespaces());
  }
  CHECK(names == std::vector<std::string>{"", "ringcri", "hardened"});
  CHECK(status.features().supplemental_groups_policy());

  // An unknown handler: NOT_FOUND naming it, nothing made.
  auto unknown = f.pod_config("unknown-handler");
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = unknown;
  req.set_runtime_handler("kata-fc");
  v1::RunPodSandboxResponse resp;
  auto st = f.client.runtime_call(&S::RunPodSandbox, req, &resp);
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK_THAT(st.error_message(), Catch::Contains("\"kata-fc\""));

  // The configured one: kept by the pod, shown by its status and the list.
  auto pod_config = f.pod_config("hardened");
  req = {};
  *req.mutable_config() = pod_config;
  req.set_runtime_handler("hardened");
  st = f.client.runtime_call(&S::RunPodSandbox, req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  const std::string pod = resp.pod_sandbox_id();
  CHECK(f.pod_status(pod).runtime_handler() == "hardened");
  v1::ListPodSandboxResponse pods;
  REQUIRE(f.client.runtime_call(&S::ListPodSandbox, v1::ListPodSandboxRequest{}, &pods).ok());
  REQUIRE(pods.items_size() == 1);
  CHECK(pods.items(0).runtime_handler() == "hardened");
  // "ringcri" names the default handler.
  const std::string default_pod = f.run_pod("default-handler");
  req = {};
  *req.mutable_config() = f.pod_config("named-default");
  req.set_runtime_handler("ringcri");
  st = f.client.runtime_call(&S::RunPodSandbox, req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  const std::string named_default_pod = resp.pod_sandbox_id();

  // Its seccomp default: filtered (mode 2) unless the container asks.
  auto none_asked =
      f.create_and_start(pod, pod_config, f.container_config("none", {"sleep", "1000"}));
  CHECK(seccomp_mode(f, none_asked) == "2");
  auto unconfined = f.container_config("unconfined", {"sleep", "1000"});
  unconfined.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      v1::SecurityProfile::Unconfined);
  CHECK(seccomp_mode(f, f.create_and_start(pod, pod_config, unconfined)) == "0");
  // The default handler's: none.
  auto default_config = f.pod_config("default-handler");
  auto plain = f.create_and_start(default_pod, default_config,
                                  f.container_config("plain", {"sleep", "1000"}));
  CHECK(seccomp_mode(f, plain) == "0");

  // Kept across a kill -9 of the daemon.
  f.daemon.kill();
  f.daemon.restart();
  f.client.reconnect();
  CHECK(f.pod_status(pod).runtime_handler() == "hardened");

  f.remove_pod(pod);
  f.remove_pod(default_pod);
  f.remove_pod(named_default_pod);
  f.check_nothing_left();
}

TEST_CASE("Status verbose: config names the root and state dirs both ways") {
  skip_unless_ready();
  runtime_fixture f;
  v1::StatusRequest req;
  req.set_verbose(true);
  v1::StatusResponse status;
  REQUIRE(f.client.runtime_call(&S::Status, req, &status).ok());
  REQUIRE(status.info().count("config"));
  auto config = nlohmann::json::parse(status.info().at("config"));
  CHECK(config.at("root") == f.daemon.root().string());
  CHECK(config.at("state") == f.daemon.state().string());
  CHECK(config.at("rootDir") == f.daemon.root().string());
  CHECK(config.at("stateDir") == f.daemon.state().string());
}

TEST_CASE("UpdatePodSandboxResources: OK for a pod, NOT_FOUND naming an unknown one") {
  skip_unless_ready();
  runtime_fixture f;
  const std::string pod = f.run_pod("resized");
  v1::UpdatePodSandboxResourcesRequest req;
  req.set_pod_sandbox_id(pod);
  req.mutable_resources()->set_memory_limit_in_bytes(256 << 20);
  req.mutable_overhead()->set_cpu_shares(16);
  v1::UpdatePodSandboxResourcesResponse resp;
  auto st = f.client.runtime_call(&S::UpdatePodSandboxResources, req, &resp);
  INFO(st.error_message());
  CHECK(st.ok());

  f.remove_pod(pod);
  st = f.client.runtime_call(&S::UpdatePodSandboxResources, req, &resp);
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK_THAT(st.error_message(), Catch::Contains(pod));
  f.check_nothing_left();
}
