#include "image/source/registry_hosts.hpp"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

using namespace ringcri;
using namespace ringcri::image;
namespace fs = std::filesystem;

namespace {

// A config_path under /tmp, removed with everything in it.
struct temp_config {
  fs::path root;

  temp_config() {
    std::string tmpl = (fs::temp_directory_path() / "ringcri-hosts-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    root = tmpl;
  }
  ~temp_config() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  temp_config(const temp_config&) = delete;
  temp_config& operator=(const temp_config&) = delete;

  fs::path write(const std::string& dir, const std::string& text) {
    fs::create_directories(root / dir);
    auto file = root / dir / "hosts.toml";
    std::ofstream(file) << text;
    return file;
  }
  registry_settings settings() const { return registry_settings{root, 6}; }
};

std::vector<registry_endpoint> endpoints(const temp_config& t, std::string_view registry) {
  auto r = endpoints_for(t.settings(), registry);
  if (!r) FAIL(r.error().message());
  return *r;
}

std::string error_of(const temp_config& t, std::string_view registry) {
  auto r = endpoints_for(t.settings(), registry);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::invalid_argument);
  return r.error().message();
}

}  // namespace

TEST_CASE("with no config a registry is its own https endpoint") {
  temp_config t;
  auto eps = endpoints(t, "quay.io");
  REQUIRE(eps.size() == 1);
  CHECK(eps[0].base_url() == "https://quay.io/v2");
  CHECK(eps[0].can_pull);
  CHECK(eps[0].can_resolve);
  CHECK_FALSE(eps[0].is_mirror);
  CHECK_FALSE(eps[0].skip_verify);
  CHECK(eps[0].ca_files.empty());
}

TEST_CASE("with no config docker.io is served by registry-1.docker.io") {
  temp_config t;
  auto eps = endpoints(t, "docker.io");
  REQUIRE(eps.size() == 1);
  CHECK(eps[0].base_url() == "https://registry-1.docker.io/v2");
}

TEST_CASE("with no config a loopback registry is plain http") {
  temp_config t;
  for (std::string r :
       {"localhost", "localhost:5000", "127.0.0.1:5000", "127.3.2.1", "[::1]:5000"}) {
    INFO(r);
    auto eps = endpoints(t, r);
    REQUIRE(eps.size() == 1);
    CHECK(eps[0].base_url() == "http://" + r + "/v2");
  }
  CHECK(endpoints(t, "10.0.0.1:5000")[0].scheme == "https");
}

TEST_CASE("a missing config_path is no config") {
  registry_settings s{"/nonexistent/ringcri/certs.d", 6};
  auto r = endpoints_for(s, "quay.io");
  REQUIRE(r);
  CHECK(r->size() == 1);
}

TEST_CASE("mirrors come in file order, then the server") {
  temp_config t;
  t.write("r.io", R"(
server = "https://upstream.r.io"

[host."https://zeta.mirror"]
  capabilities = ["pull"]

[host."http://alpha.mirror:5000"]
  capabilities = ["pull", "resolve"]

[host."https://middle.mirror"]
)");
  auto eps = endpoints(t, "r.io");
  REQUIRE(eps.size() == 4);
  CHECK(eps[0].base_url() == "https://zeta.mirror/v2");
  CHECK(eps[0].is_mirror);
  CHECK(eps[0].can_pull);
  CHECK_FALSE(eps[0].can_resolve);
  CHECK(eps[1].base_url() == "http://alpha.mirror:5000/v2");
  CHECK(eps[1].scheme == "http");
  CHECK(eps[1].host == "alpha.mirror:5000");
  CHECK(eps[1].can_pull);
  CHECK(eps[1].can_resolve);
  CHECK(eps[2].base_url() == "https://middle.mirror/v2");
  CHECK(eps[2].can_pull);
  CHECK(eps[2].can_resolve);
  CHECK(eps[3].base_url() == "https://upstream.r.io/v2");
  CHECK_FALSE(eps[3].is_mirror);
}

TEST_CASE("capabilities: push alone leaves neither pull nor resolve; case does not matter") {
  temp_config t;
  t.write("r.io", R"(
capabilities = ["PULL"]
[host."https://push.only"]
  capabilities = ["push"]
[host."https://empty.list"]
  capabilities = []
)");
  auto eps = endpoints(t, "r.io");
  REQUIRE(eps.size() == 3);
  CHECK_FALSE(eps[0].can_pull);
  CHECK_FALSE(eps[0].can_resolve);
  CHECK(eps[1].can_pull);  // containerd: an empty list is every capability
  CHECK(eps[1].can_resolve);
  CHECK(eps[2].can_pull);
  CHECK_FALSE(eps[2].can_resolve);
}

TEST_CASE("without server the default upstream takes the top-level settings") {
  temp_config t;
  t.write("docker.io", R"(
skip_verify = true
ca = "hub-ca.crt"
[host."https://mirror.internal"]
)");
  auto eps = endpoints(t, "docker.io");
  REQUIRE(eps.size() == 2);
  CHECK(eps[0].base_url() == "https://mirror.internal/v2");
  CHECK_FALSE(eps[0].skip_verify);
  CHECK(eps[1].base_url() == "https://registry-1.docker.io/v2");
  CHECK(eps[1].skip_verify);
  REQUIRE(eps[1].ca_files.size() == 1);
  CHECK(eps[1].ca_files[0] == t.root / "docker.io" / "hub-ca.crt");
}

TEST_CASE("a loopback registry with a hosts.toml but no server stays http") {
  temp_config t;
  t.write("localhost:5000", R"(
[host."https://cache.local"]
)");
  auto eps = endpoints(t, "localhost:5000");
  REQUIRE(eps.size() == 2);
  CHECK(eps[0].base_url() == "https://cache.local/v2");
  CHECK(eps[1].base_url() == "http://localhost:5000/v2");
}

TEST_CASE("ca: absolute, relative to the hosts.toml's dir, or a list") {
  temp_config t;
  t.write("r.io:5000", R"(
[host."https://a"]
  ca = "/etc/pki/a.pem"
[host."https://b"]
  ca = ["b.pem", "sub/c.pem", "/abs/d.pem"]
)");
  auto eps = endpoints(t, "r.io:5000");
  REQUIRE(eps.size() == 3);
  REQUIRE(eps[0].ca_files.size() == 1);
  CHECK(eps[0].ca_files[0] == "/etc/pki/a.pem");
  REQUIRE(eps[1].ca_files.size() == 3);
  CHECK(eps[1].ca_files[0] == t.root / "r.io:5000" / "b.pem");
  CHECK(eps[1].ca_files[1] == t.root / "r.io:5000" / "sub/c.pem");
  CHECK(eps[1].ca_files[2] == "/abs/d.pem");
  CHECK(eps[2].base_url() == "https://r.io:5000/v2");
}

TEST_CASE("client: one path, a list of paths, or a list of [cert, key] pairs") {
  temp_config t;
  t.write("r.io", R"(
[host."https://one"]
  client = "/certs/client.pem"
[host."https://paths"]
  client = ["/certs/c1.pem", "c2.pem"]
[host."https://pairs"]
  client = [["/certs/client.cert", "/certs/client.key"], ["rel.pem", ""]]
[host."https://mixed"]
  client = ["a.pem", ["b.cert", "b.key"]]
)");
  auto eps = endpoints(t, "r.io");
  REQUIRE(eps.size() == 5);
  using pair = std::pair<fs::path, fs::path>;
  auto dir = t.root / "r.io";
  CHECK(eps[0].client_certs == std::vector<pair>{{"/certs/client.pem", ""}});
  CHECK(eps[1].client_certs == std::vector<pair>{{"/certs/c1.pem", ""}, {dir / "c2.pem", ""}});
  CHECK(eps[2].client_certs ==
        std::vector<pair>{{"/certs/client.cert", "/certs/client.key"}, {dir / "rel.pem", ""}});
  CHECK(eps[3].client_certs ==
        std::vector<pair>{{dir / "a.pem", ""}, {dir / "b.cert", dir / "b.key"}});
  CHECK(eps[4].client_certs.empty());
}

TEST_CASE("override_path: the URL's path is the API root") {
  temp_config t;
  t.write("r.io", R"(
[host."https://odd.mirror/v2/upstream"]
  override_path = true
[host."https://plain.mirror/prefix/"]
[host."https://v2.mirror/prefix/v2"]
[host."https://root.mirror/"]
  override_path = true
[host."mirror.without.scheme:8443"]
)");
  auto eps = endpoints(t, "r.io");
  REQUIRE(eps.size() == 6);
  CHECK(eps[0].base_url() == "https://odd.mirror/v2/upstream");
  CHECK(eps[1].base_url() == "https://plain.mirror/prefix/v2");
  CHECK(eps[2].base_url() == "https://v2.mirror/prefix/v2");
  CHECK(eps[3].base_url() == "https://root.mirror");
  CHECK(eps[4].base_url() == "https://mirror.without.scheme:8443/v2");
}

TEST_CASE("server with a path and override_path at the top level") {
  temp_config t;
  t.write("r.io", R"(
server = "http://proxy.local:8080/r.io"
override_path = true
)");
  auto eps = endpoints(t, "r.io");
  REQUIRE(eps.size() == 1);
  CHECK(eps[0].base_url() == "http://proxy.local:8080/r.io");
  CHECK_FALSE(eps[0].is_mirror);
}

TEST_CASE("header: strings or lists of strings") {
  temp_config t;
  t.write("r.io", R"(
[host."https://m"]
  [host."https://m".header]
    x-one = "1"
    x-many = ["a", "b"]
)");
  auto eps = endpoints(t, "r.io");
  REQUIRE(eps.size() == 2);
  using header = std::pair<std::string, std::vector<std::string>>;
  CHECK(eps[0].headers == std::vector<header>{{"x-many", {"a", "b"}}, {"x-one", {"1"}}});
  CHECK(eps[1].headers.empty());
}

TEST_CASE("_default/hosts.toml serves registries without their own") {
  temp_config t;
  t.write("_default", R"(
[host."https://registry.example.com"]
  capabilities = ["pull", "resolve"]
)");
  t.write("own.io", R"(server = "https://own.io")");
  auto eps = endpoints(t, "quay.io");
  REQUIRE(eps.size() == 2);
  CHECK(eps[0].base_url() == "https://registry.example.com/v2");
  CHECK(eps[1].base_url() == "https://quay.io/v2");
  auto hub = endpoints(t, "docker.io");
  REQUIRE(hub.size() == 2);
  CHECK(hub[1].base_url() == "https://registry-1.docker.io/v2");
  auto own = endpoints(t, "own.io");
  REQUIRE(own.size() == 1);
  CHECK(own[0].base_url() == "https://own.io/v2");
}

TEST_CASE("a registry directory without hosts.toml falls back to _default") {
  temp_config t;
  fs::create_directories(t.root / "r.io");
  t.write("_default", R"(server = "https://only.mirror")");
  auto eps = endpoints(t, "r.io");
  REQUIRE(eps.size() == 1);
  CHECK(eps[0].base_url() == "https://only.mirror/v2");
}

TEST_CASE("every error names the file and the key") {
  temp_config t;
  struct bad_case {
    std::string text;
    std::string message;  // after "<file>: "
  };
  const std::vector<bad_case> cases = {
      {"[host.\"https://m\"]\ncapabilities = [\"pul\"]",
       "host.\"https://m\".capabilities: unknown capability \"pul\" (want pull, resolve or push)"},
      {"capabilities = \"pull\"", "capabilities: must be an array of strings, not a string"},
      {"capabilities = [1]", "capabilities: must be an array of strings, not hold an integer"},
      {"[host.\"https://m\"]\nskip_verify = \"yes\"",
       "host.\"https://m\".skip_verify: must be a boolean, not a string"},
      {"override_path = 1", "override_path: must be a boolean, not an integer"},
      {"server = 5", "server: must be a string, not an integer"},
      {"server = \"ftp://r.io\"", "server: unsupported scheme \"ftp\" (want http or https)"},
      {"server = \"https://\"", "server: no host in URL"},
      {"server = \"https://r.io:99999\"", "server: bad port \"99999\""},
      {"server = \"https://user@r.io\"", "server: user info is not allowed"},
      {"server = \"https://r.io/?x=1\"", "server: a query or fragment is not allowed"},
      {"[host.\"gopher://m\"]", "host.\"gopher://m\": unsupported scheme \"gopher\""},
      {"[host.\"https://m\"]\npul = true", "host.\"https://m\".pul: unknown key"},
      {"sever = \"https://r.io\"", "sever: unknown key"},
      {"[host.\"https://m\"]\nserver = \"https://x\"", "host.\"https://m\".server: unknown key"},
      {"[host.\"https://m\"]\n[host.\"https://m\".host.\"https://n\"]",
       "host.\"https://m\".host: unknown key"},
      {"dial_timeout = \"1s\"", "dial_timeout: a containerd key ringcri does not support"},
      {"host = \"https://m\"", "host: must be a table, not a string"},
      {"host = { \"https://m\" = 1 }", "host.\"https://m\": must be a table, not an integer"},
      {"ca = 1", "ca: must be a path or an array of paths"},
      {"ca = [\"a\", 2]", "ca: must be a path or an array of paths"},
      {"ca = \"\"", "ca: empty path"},
      {"client = 1", "client: must be a path, an array of paths, or an array of [cert, key] pairs"},
      {"client = [[\"a\"]]", "client: must be a path"},
      {"client = [[\"a\", \"b\", \"c\"]]", "client: must be a path"},
      {"client = [[\"a\", 1]]", "client: must be a path"},
      {"header = \"x\"", "header: must be a table, not a string"},
      {"[header]\nx-a = 1", "header.x-a: must be a string or an array of strings"},
      {"[header]\n\"x a\" = [1]", "header.\"x a\": must be a string or an array of strings"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto file = t.write("r.io", c.text);
    CHECK_THAT(error_of(t, "r.io"), Catch::StartsWith(file.string() + ": " + c.message));
  }
}

TEST_CASE("the brief's example error reads as promised") {
  auto r = parse_hosts_toml("[host.\"https://m\"]\ncapabilities = [\"pul\"]\n",
                            "/etc/ringcri/certs.d/r.io/hosts.toml", "r.io");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(),
             Catch::StartsWith("/etc/ringcri/certs.d/r.io/hosts.toml: "
                               "host.\"https://m\".capabilities: unknown capability \"pul\""));
}

TEST_CASE("a TOML syntax error names the file, line and column") {
  temp_config t;
  auto file = t.write("r.io", "server = \"https://r.io\"\nskip_verify = \n");
  CHECK_THAT(error_of(t, "r.io"), Catch::StartsWith(file.string() + ":2:"));
}

TEST_CASE("an error in _default/hosts.toml names that file") {
  temp_config t;
  auto file = t.write("_default", "bogus = 1");
  CHECK(error_of(t, "quay.io") == file.string() + ": bogus: unknown key");
}

TEST_CASE("a registry name that would leave config_path is refused") {
  temp_config t;
  for (std::string bad :
       std::vector<std::string>{"", ".", "..", "../etc", "a/b", std::string("a\0b", 3)}) {
    INFO(bad);
    CHECK_THAT(error_of(t, bad), Catch::StartsWith("invalid registry host"));
  }
}

TEST_CASE("an unreadable hosts.toml is an error naming it, not a silent default") {
  if (geteuid() == 0) {
    // root reads a mode-000 file anyway; a directory named hosts.toml
    // fails for everyone.
    temp_config t;
    fs::create_directories(t.root / "r.io" / "hosts.toml");
    auto r = endpoints_for(t.settings(), "r.io");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains((t.root / "r.io" / "hosts.toml").string()));
    return;
  }
  temp_config t;
  auto file = t.write("r.io", "server = \"https://r.io\"");
  chmod(file.c_str(), 0);
  auto r = endpoints_for(t.settings(), "r.io");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::permission_denied);
  CHECK_THAT(r.error().message(), Catch::Contains(file.string()));
}

TEST_CASE("hosts_for names the hosts.toml the endpoints came from: the registry's, _default's, or none") {
  temp_config t;
  const auto own = t.write("own.io", R"(server = "https://own.io")");
  auto r = hosts_for(t.settings(), "own.io");
  REQUIRE(r);
  CHECK(r->file == own);
  CHECK(r->endpoints.size() == 1);

  auto none = hosts_for(t.settings(), "quay.io");
  REQUIRE(none);
  CHECK(none->file.empty());
  REQUIRE(none->endpoints.size() == 1);
  CHECK(none->endpoints[0].base_url() == "https://quay.io/v2");

  const auto fallback = t.write("_default", R"([host."https://mirror.example.com"])");
  auto defaulted = hosts_for(t.settings(), "quay.io");
  REQUIRE(defaulted);
  CHECK(defaulted->file == fallback);
  REQUIRE(defaulted->endpoints.size() == 2);
  CHECK(defaulted->endpoints[0].is_mirror);
  // The same endpoints endpoints_for gives a pull.
  auto for_pull = endpoints(t, "quay.io");
  REQUIRE(for_pull.size() == 2);
  CHECK(for_pull[0].base_url() == defaulted->endpoints[0].base_url());
  CHECK(for_pull[1].base_url() == defaulted->endpoints[1].base_url());
}
