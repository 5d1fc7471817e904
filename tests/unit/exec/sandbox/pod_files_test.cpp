// write_pod_files: the exact hostname, hosts and resolv.conf a pod gets.

#include "exec/sandbox/pod_files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "ns_test_support.hpp"

namespace sb = ringcri::exec::sandbox;
namespace fs = std::filesystem;
using namespace sandbox_test;

namespace {

const char* const managed_hosts_head =
    "# Kubernetes-managed hosts file.\n"
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "fe00::0\tip6-mcastprefix\n"
    "fe00::1\tip6-allnodes\n"
    "fe00::2\tip6-allrouters\n";

// A stand-in for the host's /etc.
struct fake_host_etc {
  temp_dir tmp;
  fs::path etc = tmp.path / "etc";
  fs::path pod_dir = tmp.path / "pod";
  fake_host_etc() {
    fs::create_directories(etc);
    fs::create_directories(pod_dir);
    std::ofstream(etc / "hosts") << "127.0.0.1 localhost\n10.0.0.5 node-a\n";
    std::ofstream(etc / "resolv.conf") << "nameserver 10.0.0.53\nsearch node.example\n";
  }
};

mode_t mode_of(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("pod files from a DNS config") {
  fake_host_etc host;
  sb::pod_files_request req;
  req.hostname = "web-0";
  req.ip = "10.88.0.7";
  req.has_dns_config = true;
  req.dns_servers = {"10.96.0.10", "10.96.0.11"};
  req.dns_searches = {"default.svc.cluster.local", "svc.cluster.local", "cluster.local"};
  req.dns_options = {"ndots:5", "timeout:2"};
  req.host_etc = host.etc;

  auto files = sb::write_pod_files(host.pod_dir, req);
  INFO((files ? "" : files.error().message()));
  REQUIRE(files);
  CHECK(files->hostname == (host.pod_dir / "hostname").string());
  CHECK(files->hosts == (host.pod_dir / "hosts").string());
  CHECK(files->resolv_conf == (host.pod_dir / "resolv.conf").string());
  CHECK(read_file(files->hostname) == "web-0\n");
  CHECK(read_file(files->hosts) == std::string(managed_hosts_head) + "10.88.0.7\tweb-0\n");
  CHECK(read_file(files->resolv_conf) ==
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\n"
        "nameserver 10.96.0.11\n"
        "options ndots:5 timeout:2\n");
  for (const auto& f : {files->hostname, files->hosts, files->resolv_conf})
    CHECK(mode_of(f) == 0644);
  // Nothing but the three files: no temp file left over.
  CHECK(std::distance(fs::directory_iterator(host.pod_dir), fs::directory_iterator()) == 3);
}

TEST_CASE("pod files without a DNS config copy the host's resolv.conf") {
  fake_host_etc host;
  sb::pod_files_request req;
  req.hostname = "job-1";
  req.host_etc = host.etc;
  SECTION("no DNS config") {}
  SECTION("an empty DNS config") { req.has_dns_config = true; }
  auto files = sb::write_pod_files(host.pod_dir, req);
  REQUIRE(files);
  CHECK(read_file(files->resolv_conf) == "nameserver 10.0.0.53\nsearch node.example\n");
  // No IP known yet: the hostname is on 127.0.1.1.
  CHECK(read_file(files->hosts) == std::string(managed_hosts_head) + "127.0.1.1\tjob-1\n");
}

TEST_CASE("pod files default to the real /etc/resolv.conf") {
  temp_dir tmp;
  sb::pod_files_request req;
  req.hostname = "p";
  auto files = sb::write_pod_files(tmp.path, req);
  REQUIRE(files);
  CHECK(read_file(files->resolv_conf) == read_file("/etc/resolv.conf"));
}

TEST_CASE("pod files of a host-network pod are the host's") {
  fake_host_etc host;
  sb::pod_files_request req;
  req.host_network = true;
  req.host_etc = host.etc;
  SECTION("with the pod's hostname") {
    req.hostname = "node-a";
    auto files = sb::write_pod_files(host.pod_dir, req);
    REQUIRE(files);
    CHECK(read_file(files->hostname) == "node-a\n");
    CHECK(read_file(files->hosts) == "127.0.0.1 localhost\n10.0.0.5 node-a\n");
    CHECK(read_file(files->resolv_conf) == "nameserver 10.0.0.53\nsearch node.example\n");
  }
  SECTION("without a hostname: the host's name") {
    char own[128] = {};
    ::gethostname(own, sizeof own - 1);
    auto files = sb::write_pod_files(host.pod_dir, req);
    REQUIRE(files);
    CHECK(read_file(files->hostname) == std::string(own) + "\n");
  }
  SECTION("a DNS config still wins for resolv.conf (ClusterFirstWithHostNet)") {
    req.has_dns_config = true;
    req.dns_servers = {"10.96.0.10"};
    auto files = sb::write_pod_files(host.pod_dir, req);
    REQUIRE(files);
    CHECK(read_file(files->resolv_conf) == "nameserver 10.96.0.10\n");
    CHECK(read_file(files->hosts) == "127.0.0.1 localhost\n10.0.0.5 node-a\n");
  }
}

TEST_CASE("pod files are replaced whole when written again") {
  fake_host_etc host;
  sb::pod_files_request req;
  req.hostname = "first-name-that-is-long";
  req.host_etc = host.etc;
  REQUIRE(sb::write_pod_files(host.pod_dir, req));
  req.hostname = "second";
  auto files = sb::write_pod_files(host.pod_dir, req);
  REQUIRE(files);
  CHECK(read_file(files->hostname) == "second\n");
}

TEST_CASE("pod files errors name what is wrong") {
  fake_host_etc host;
  sb::pod_files_request req;
  req.hostname = "p";
  req.host_etc = host.etc;
  SECTION("missing pod dir") {
    auto files = sb::write_pod_files(host.tmp.path / "nope", req);
    REQUIRE_FALSE(files);
    CHECK(files.error().message().find((host.tmp.path / "nope").string()) != std::string::npos);
  }
  SECTION("missing host resolv.conf") {
    fs::remove(host.etc / "resolv.conf");
    auto files = sb::write_pod_files(host.pod_dir, req);
    REQUIRE_FALSE(files);
    CHECK(files.error().message().find((host.etc / "resolv.conf").string()) != std::string::npos);
    CHECK(fs::is_empty(host.pod_dir));
  }
  SECTION("a hostname with a newline") {
    req.hostname = "a\nb";
    auto files = sb::write_pod_files(host.pod_dir, req);
    REQUIRE_FALSE(files);
    CHECK(files.error().kind() == ringcri::error_kind::invalid_argument);
    CHECK(fs::is_empty(host.pod_dir));
  }
}
