// The binary's debugging commands (src/cli/) as a user runs them:
// `ringcri config`, `resolve`, `check` and `inspect`, their output read
// from outside, against real files, this node's kernel and a real daemon.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/runtime_fixture.hpp"

using namespace ringcri::testing;

namespace {

struct ran {
  int status = -1;  // the exit status; -1 when it did not exit
  std::string out;
  std::string err;
};

// Runs ringcri with `args`, its stdout and stderr kept apart.
ran run(const std::vector<std::string>& args) {
  temp_dir files("ringcri-cli-run");
  const fs::path out = files.path() / "out", err = files.path() / "err";
  const std::string bin = ringcri_binary();
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The line that starts with `prefix`; empty when none does.
std::string line_starting(const std::string& text, const std::string& prefix) {
  for (const auto& line : lines_of(text))
    if (line.starts_with(prefix)) return line;
  return {};
}

// The TOML without its comments: the values alone.
std::string values_of(const std::string& toml) {
  std::string out;
  for (auto line : lines_of(toml)) {
    if (line.starts_with("#")) continue;
    if (auto at = line.find("  # from "); at != std::string::npos) line.erase(at);
    out += line + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE(
    "config: each value with where it came from (file line, flag, default), as TOML that reads "
    "back") {
  temp_dir dir;
  const fs::path file = dir.write("ringcri.toml", "cores = 3\n\n[image]\nlayer_store = \"dir\"\n");
  const fs::path root = dir.path() / "flag-root";
  auto shown = run({"config", "--config", file.string(), "--root", root.string()});
  INFO(shown.out << shown.err);
  REQUIRE(shown.status == 0);
  CHECK(shown.err.empty());
  CHECK(line_starting(shown.out, "cores = ") == "cores = 3  # from " + file.string() + ":1");
  CHECK(line_starting(shown.out, "layer_store = ") ==
        "layer_store = \"dir\"  # from " + file.string() + ":4");
  CHECK(line_starting(shown.out, "root = ") ==
        "root = \"" + root.string() + "\"  # from flag --root");
  CHECK(line_starting(shown.out, "state = ") == "state = \"/run/ringcri\"  # from default");
  CHECK(line_starting(shown.out, "max_concurrent_downloads = ") ==
        "max_concurrent_downloads = 6  # from default");
  // Every key of the file's format, in its tables.
  for (const char* key : {"socket = ", "log_level = ", "cgroup_driver = ", "cgroup_favordynmods = ",
                          "stream_server_address = ", "stream_server_port = ", "pids_limit = ",
                          "config_path = ", "max_layer_bytes = ", "min_free_bytes = ",
                          "pull_progress_timeout = ", "conf_dir = ", "plugin_dirs = ", "native = "})
    CHECK_FALSE(line_starting(shown.out, key).empty());
  for (const char* table : {"[registry]", "[image]", "[cni]"})
    CHECK_FALSE(line_starting(shown.out, table).empty());

  // The output is a config file: the parser reads it back to the same
  // values, each now from that file.
  const fs::path printed = dir.write("printed.toml", shown.out);
  auto again = run({"config", "--config", printed.string()});
  INFO(again.out << again.err);
  REQUIRE(again.status == 0);
  CHECK(values_of(again.out) == values_of(shown.out));
  CHECK(line_starting(again.out, "root = ") ==
        "root = \"" + root.string() + "\"  # from " + printed.string() + ":2");
  CHECK(line_starting(again.out, "cores = ")
            .starts_with("cores = 3  # from " + printed.string() + ":"));
}

TEST_CASE("config: a broken file exits 2 naming the file, the key and its line") {
  temp_dir dir;
  const fs::path wrong_type = dir.write("wrong.toml", "cores = 2\n[cni]\nconf_dir = 7\n");
  auto shown = run({"config", "--config", wrong_type.string()});
  CHECK(shown.status == 2);
  CHECK(shown.out.empty());
  CHECK_THAT(shown.err, Catch::Contains(wrong_type.string() +
                                        ":3: key 'cni.conf_dir' must be an absolute path"));

  const fs::path misspelt = dir.write("misspelt.toml", "cores = 2\n\nsokcet = \"/x\"\n");
  shown = run({"config", "--config", misspelt.string()});
  CHECK(shown.status == 2);
  CHECK_THAT(shown.err, Catch::Contains(misspelt.string() + ":3: unknown key 'sokcet'"));

  const fs::path bad_value = dir.write("level.toml", "log_level = \"loud\"\n");
  shown = run({"config", "--config", bad_value.string()});
  CHECK(shown.status == 2);
  CHECK_THAT(shown.err, Catch::Contains(bad_value.string() + ":1: log_level 'loud'"));
}

TEST_CASE(
    "resolve: the hosts.toml that applies, its mirror before the registry, and the credentials' "
    "source") {
  temp_dir dir;
  const std::string host = "registry.test:5000";
  const fs::path certs = dir.path() / "certs.d";
  fs::create_directories(certs / host);
  const fs::path hosts = dir.write("certs.d/" + host + "/hosts.toml",
                                   "server = \"https://registry.test:5000\"\n"
                                   "[host.\"https://mirror.test:5001\"]\n"
                                   "  capabilities = [\"pull\"]\n"
                                   "  skip_verify = true\n");
  const fs::path file = dir.write(
      "ringcri.toml", "[registry]\nconfig_path = \"" + certs.string() + "\"\n\n[registry.auths.\"" +
                          host + "\"]\nusername = \"alice\"\npassword = \"pw-not-to-print\"\n");
  auto shown = run({"resolve", host + "/team/app:1", "--config", file.string()});
  INFO(shown.out << shown.err);
  REQUIRE(shown.status == 0);
  CHECK(line_starting(shown.out, "hosts.toml") == "hosts.toml  " + hosts.string());
  const auto mirror = shown.out.find("1. mirror   https://mirror.test:5001/v2");
  const auto registry = shown.out.find("2. registry https://registry.test:5000/v2");
  CHECK(mirror != std::string::npos);
  CHECK(registry != std::string::npos);
  CHECK(mirror < registry);
  CHECK_THAT(shown.out, Catch::Contains("capabilities  pull\n"));
  CHECK_THAT(shown.out, Catch::Contains("server certificate not verified (skip_verify)"));
  const std::string credentials = line_starting(shown.out, "credentials");
  CHECK_THAT(credentials,
             Catch::Contains("[registry.auths.\"" + host + "\"] from " + file.string() + ":4") &&
                 Catch::Contains("username \"alice\""));
  CHECK(shown.out.find("pw-not-to-print") == std::string::npos);

  // Another registry: no hosts.toml (nor _default), no credentials.
  shown = run({"resolve", "other.test/app", "--config", file.string()});
  INFO(shown.out << shown.err);
  REQUIRE(shown.status == 0);
  CHECK_THAT(line_starting(shown.out, "hosts.toml"),
             Catch::StartsWith("hosts.toml  none") &&
                 Catch::Contains((certs / "_default" / "hosts.toml").string()));
  CHECK_THAT(shown.out, Catch::Contains("1. registry https://other.test/v2"));
  CHECK_THAT(line_starting(shown.out, "credentials"),
             Catch::StartsWith("credentials none in the config"));

  // A bad reference is a bad argument.
  shown = run({"resolve", "Busybox", "--config", file.string()});
  CHECK(shown.status == 2);
  CHECK_THAT(shown.err, Catch::Contains("must be lowercase"));
}

TEST_CASE("resolve --probe asks each host for /v2/ in order: a dead mirror, then the registry") {
  if (::geteuid() != 0 || !registry_fixture::unavailable_reason().empty()) {
    skip_case("resolve --probe needs the registry fixture (root, docker-registry)");
    return;
  }
  registry_fixture reg("plain", "busybox");
  temp_dir dir;
  fs::create_directories(dir.path() / "certs.d" / reg.host());
  dir.write("certs.d/" + reg.host() + "/hosts.toml",
            "server = \"http://" + reg.host() + "\"\n[host.\"http://127.0.0.1:1\"]\n");
  const fs::path file = dir.write(
      "ringcri.toml", "[registry]\nconfig_path = \"" + (dir.path() / "certs.d").string() + "\"\n");
  auto shown = run({"resolve", reg.host() + "/busybox:1", "--probe", "--config", file.string()});
  INFO(shown.out << shown.err);
  CHECK(shown.status == 0);
  CHECK_THAT(line_starting(shown.out, "  1. http://127.0.0.1:1/v2"), Catch::Contains("no answer"));
  CHECK_THAT(line_starting(shown.out, "  2. http://" + reg.host() + "/v2"),
             Catch::EndsWith("HTTP 200 OK"));

  // Only the dead one: nothing a pull could use answers.
  dir.write("certs.d/" + reg.host() + "/hosts.toml", "server = \"http://127.0.0.1:1\"\n");
  shown = run({"resolve", reg.host() + "/busybox:1", "--probe", "--config", file.string()});
  CHECK(shown.status == 1);
}

TEST_CASE("check: exit 0 on this node, the cgroup layout the node has, and EROFS") {
  // The layout from mountinfo, read here.
  bool v1 = false, v2 = false;
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    if (line.find(" - cgroup2 ") != std::string::npos)
      v2 = true;
    else if (line.find(" - cgroup ") != std::string::npos)
      v1 = true;
  }
  const std::string layout = v1 && v2 ? "hybrid" : v2 ? "v2" : "v1";

  temp_dir dir;
  const fs::path root = dir.path() / "root";
  fs::create_directories(root);
  auto shown = run({"check", "--config", "/dev/null", "--root", root.string()});
  INFO(shown.out << shown.err);
  CHECK(shown.status == 0);
  CHECK_THAT(line_starting(shown.out, "cgroup layout"), Catch::Contains("ok: " + layout + ":"));
  if (layout == "hybrid")
    CHECK_THAT(line_starting(shown.out, "cgroup layout"), Catch::Contains("cgroup2 at "));
  const std::string erofs = line_starting(shown.out, "EROFS file-backed mounts");
  REQUIRE_FALSE(erofs.empty());
  // Linux 6.12 mounts EROFS images from files (ENVIRONMENT.md: this one does).
  utsname u{};
  ::uname(&u);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  if (major > 6 || (major == 6 && minor >= 12)) CHECK_THAT(erofs, Catch::Contains("ok: "));
  for (const char* feature :
       {"io_uring ", "io_uring opcodes", "cgroup favordynmods", "user namespaces", "overlayfs",
        "clone3 + pidfd", "device rules", "nftables", "seccomp"})
    CHECK_FALSE(line_starting(shown.out, feature).empty());
  // Nothing left of the probes: the scratch directory under the root dir is gone.
  CHECK(fs::is_empty(root));

  // A layer store the config insists on is required: on a kernel without
  // EROFS file mounts that is an exit 1; here it is there.
  const fs::path erofs_only = dir.write("erofs.toml", "[image]\nlayer_store = \"erofs\"\n");
  shown = run({"check", "--config", erofs_only.string(), "--root", root.string()});
  CHECK_THAT(line_starting(shown.out, "EROFS file-backed mounts"),
             Catch::Contains(shown.status == 0 ? "ok: " : "missing (required)"));
}

TEST_CASE("inspect: a pod's record by its id or a unique prefix, read while the daemon runs") {
  if (::geteuid() != 0) {
    skip_case("pods need root");
    return;
  }
  ringcri_process daemon;
  cri_client client(daemon.socket());
  const std::vector<std::string> where = {"--root",   daemon.root().string(),
                                          "--state",  daemon.state().string(),
                                          "--config", (daemon.dir() / "ringcri.toml").string()};
  auto inspect = [&](const std::string& id) {
    std::vector<std::string> args = {"inspect", id};
    args.insert(args.end(), where.begin(), where.end());
    return run(args);
  };

  std::vector<std::string> pods;
  std::map<char, std::vector<std::string>> by_first;
  // Pods until two ids share their first digit (17 at most): a prefix
  // that is ambiguous.
  for (int i = 0; i < 17; ++i) {
    v1::RunPodSandboxRequest req;
    auto* meta = req.mutable_config()->mutable_metadata();
    meta->set_name("inspected-" + std::to_string(i));
    meta->set_namespace_("cli-test");
    meta->set_uid("uid-inspected-" + std::to_string(i));
    v1::RunPodSandboxResponse resp;
    auto st = client.runtime_call(&S::RunPodSandbox, req, &resp);
    INFO(st.error_message());
    REQUIRE(st.ok());
    pods.push_back(resp.pod_sandbox_id());
    auto& same = by_first[resp.pod_sandbox_id()[0]];
    same.push_back(resp.pod_sandbox_id());
    if (same.size() == 2) break;
  }
  const std::string id = pods.front();
  const fs::path meta = daemon.root() / "meta";
  struct stat journal_before {};
  REQUIRE(::stat((meta / "journal.0").c_str(), &journal_before) == 0);
  const std::string journal_bytes = read_file(meta / "journal.0");

  auto shown = inspect(id);
  INFO(shown.out << shown.err);
  REQUIRE(shown.status == 0);
  auto doc = nlohmann::json::parse(shown.out);
  CHECK(doc.at("kind") == "pod");
  CHECK(doc.at("record").at("id") == id);
  CHECK(doc.at("record").at("config").at("metadata").at("name") == "inspected-0");
  CHECK(doc.at("record").at("config").at("metadata").at("namespace") == "cli-test");
  CHECK(doc.at("record").at("state") == "SANDBOX_READY");
  CHECK(doc.at("node").at("pod_dir").at("exists") == true);
  CHECK(doc.at("node").at("namespaces").at("net").at("held") == true);
  bool a_cgroup_dir = false;
  for (const auto& dir : doc.at("node").at("cgroup"))
    a_cgroup_dir = a_cgroup_dir || dir.at("exists") == true;
  CHECK(a_cgroup_dir);

  // A unique prefix gives the same; the daemon still runs and serves, its
  // journal untouched by the reader.
  auto by_prefix = inspect(id.substr(0, 12));
  CHECK(by_prefix.status == 0);
  CHECK(by_prefix.out == shown.out);
  CHECK(::kill(daemon.pid(), 0) == 0);
  v1::PodSandboxStatusRequest status_req;
  status_req.set_pod_sandbox_id(id);
  v1::PodSandboxStatusResponse status_resp;
  CHECK(client.runtime_call(&S::PodSandboxStatus, status_req, &status_resp).ok());
  struct stat journal_after {};
  REQUIRE(::stat((meta / "journal.0").c_str(), &journal_after) == 0);
  CHECK(journal_after.st_mtim.tv_nsec == journal_before.st_mtim.tv_nsec);
  CHECK(journal_after.st_mtim.tv_sec == journal_before.st_mtim.tv_sec);
  CHECK(read_file(meta / "journal.0") == journal_bytes);

  // An unknown id, and a prefix two pods share: exit 1, saying which.
  auto unknown = inspect("not-an-id");
  CHECK(unknown.status == 1);
  CHECK_THAT(unknown.err, Catch::Contains("no pod or container") && Catch::Contains("not-an-id"));
  for (const auto& [first, ids] : by_first) {
    if (ids.size() < 2) continue;
    auto ambiguous = inspect(std::string(1, first));
    CHECK(ambiguous.status == 1);
    CHECK_THAT(ambiguous.err,
               Catch::Contains("ambiguous") && Catch::Contains(ids[0]) && Catch::Contains(ids[1]));
  }

  // A pod the daemon removed is gone from the records too (the journal
  // read over the files).
  v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(id);
  v1::StopPodSandboxResponse stopped;
  REQUIRE(client.runtime_call(&S::StopPodSandbox, stop, &stopped).ok());
  v1::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(id);
  v1::RemovePodSandboxResponse removed;
  REQUIRE(client.runtime_call(&S::RemovePodSandbox, remove, &removed).ok());
  CHECK(inspect(id).status == 1);
  for (std::size_t i = 1; i < pods.size(); ++i) {
    stop.set_pod_sandbox_id(pods[i]);
    remove.set_pod_sandbox_id(pods[i]);
    CHECK(client.runtime_call(&S::StopPodSandbox, stop, &stopped).ok());
    CHECK(client.runtime_call(&S::RemovePodSandbox, remove, &removed).ok());
  }
}

TEST_CASE("inspect: a running container's record, its process in its cgroup, and its pod") {
  if (::geteuid() != 0 || !registry_fixture::unavailable_reason().empty()) {
    skip_case("containers need root and the registry fixture");
    return;
  }
  runtime_fixture f;
  auto pc = f.run_pod_with("inspected-ctr", {"tail", "-f", "/dev/null"});
  auto shown =
      run({"inspect", pc.container.substr(0, 16), "--root", f.daemon.root().string(), "--state",
           f.daemon.state().string(), "--config", (f.daemon.dir() / "ringcri.toml").string()});
  INFO(shown.out << shown.err);
  REQUIRE(shown.status == 0);
  auto doc = nlohmann::json::parse(shown.out);
  CHECK(doc.at("kind") == "container");
  CHECK(doc.at("record").at("id") == pc.container);
  CHECK(doc.at("record").at("config").at("metadata").at("name") == "inspected-ctr");
  CHECK(doc.at("record").at("state") == "CONTAINER_RUNNING");
  CHECK(doc.at("record").at("spec_json").is_object());
  CHECK(doc.at("node").at("process").at("pid") == std::stoi(f.pid_of(pc.container)));
  CHECK(doc.at("node").at("process").at("running") == true);
  CHECK(doc.at("node").at("process").at("in_its_cgroup") == true);
  CHECK(doc.at("node").at("pod").at("id") == pc.pod);
  CHECK(doc.at("node").at("pod").at("name") == "inspected-ctr");
  CHECK(doc.at("node").at("container_dir").at("exists") == true);
  f.remove_pod(pc.pod);
}
