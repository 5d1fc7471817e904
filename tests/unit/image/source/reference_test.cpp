#include "image/source/reference.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace ringcri;
using namespace ringcri::image;

namespace {

const std::string hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string hex128 = hex64 + hex64;

struct valid_case {
  std::string text;
  std::string registry;
  std::string repository;
  std::string tag;
  std::string digest;
  std::string normalised;
};

struct invalid_case {
  std::string text;
  std::string fragment;  // what the message must say beyond quoting the reference
};

}  // namespace

TEST_CASE("valid references normalise as Docker does") {
  const std::vector<valid_case> cases = {
      {"busybox", "docker.io", "library/busybox", "latest", "", "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", "",
       "docker.io/library/busybox:1.36"},
      {"docker.io/library/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"index.docker.io/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"index.docker.io/foo/bar:v1", "docker.io", "foo/bar", "v1", "", "docker.io/foo/bar:v1"},
      {"library/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"foo/bar", "docker.io", "foo/bar", "latest", "", "docker.io/foo/bar:latest"},
      {"foo/bar/baz", "docker.io", "foo/bar/baz", "latest", "", "docker.io/foo/bar/baz:latest"},
      {"host:5000/a/b:tag", "host:5000", "a/b", "tag", "", "host:5000/a/b:tag"},
      {"localhost/x", "localhost", "x", "latest", "", "localhost/x:latest"},
      {"localhost:5000/x", "localhost:5000", "x", "latest", "", "localhost:5000/x:latest"},
      {"[::1]:5000/x:y", "[::1]:5000", "x", "y", "", "[::1]:5000/x:y"},
      {"[2001:db8::1]/x", "[2001:db8::1]", "x", "latest", "", "[2001:db8::1]/x:latest"},
      {"127.0.0.1:5000/team/app:v2", "127.0.0.1:5000", "team/app", "v2", "",
       "127.0.0.1:5000/team/app:v2"},
      {"quay.io/coreos/etcd", "quay.io", "coreos/etcd", "latest", "", "quay.io/coreos/etcd:latest"},
      {"registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", "",
       "registry.k8s.io/pause:3.9"},
      {"ghcr.io/x", "ghcr.io", "x", "latest", "", "ghcr.io/x:latest"},
      {"registry-1.docker.io/busybox", "registry-1.docker.io", "busybox", "latest", "",
       "registry-1.docker.io/busybox:latest"},
      {"busybox@sha256:" + hex64, "docker.io", "library/busybox", "", "sha256:" + hex64,
       "docker.io/library/busybox@sha256:" + hex64},
      {"busybox:1.36@sha256:" + hex64, "docker.io", "library/busybox", "1.36", "sha256:" + hex64,
       "docker.io/library/busybox:1.36@sha256:" + hex64},
      {"host:5000/a@sha512:" + hex128, "host:5000", "a", "", "sha512:" + hex128,
       "host:5000/a@sha512:" + hex128},
      {"a.b-c_d__e---f:T_a.g-1", "docker.io", "library/a.b-c_d__e---f", "T_a.g-1", "",
       "docker.io/library/a.b-c_d__e---f:T_a.g-1"},
      {"busybox:_v", "docker.io", "library/busybox", "_v", "", "docker.io/library/busybox:_v"},
      {"localhost:5000", "docker.io", "library/localhost", "5000", "",
       "docker.io/library/localhost:5000"},
      {"my-host.example.com:443/a/b/c:latest", "my-host.example.com:443", "a/b/c", "latest", "",
       "my-host.example.com:443/a/b/c:latest"},
      {"Registry.Example.com/x", "Registry.Example.com", "x", "latest", "",
       "Registry.Example.com/x:latest"},
      {"MyRegistry/x", "MyRegistry", "x", "latest", "", "MyRegistry/x:latest"},
      {"busybox:" + std::string(128, 'a'), "docker.io", "library/busybox", std::string(128, 'a'),
       "", "docker.io/library/busybox:" + std::string(128, 'a')},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = parse_reference(c.text);
    REQUIRE(r);
    CHECK(r->registry == c.registry);
    CHECK(r->repository == c.repository);
    CHECK(r->tag == c.tag);
    CHECK(r->digest == c.digest);
    CHECK(r->string() == c.normalised);
    CHECK(r->name() == c.registry + "/" + c.repository);
    // The normalised form parses back to the same reference.
    auto again = parse_reference(r->string());
    REQUIRE(again);
    CHECK(*again == *r);
  }
}

TEST_CASE("invalid references are INVALID_ARGUMENT quoting the reference and the fault") {
  const std::vector<invalid_case> cases = {
      {"", "empty reference"},
      {"Busybox", "repository name must be lowercase"},
      {"library/Busybox", "repository name must be lowercase"},
      {"quay.io/Coreos/etcd", "repository name must be lowercase"},
      {"a//b", "empty path component"},
      {"busybox/", "empty path component"},
      {"/busybox", "empty path component"},
      {":tag", "missing repository name"},
      {"busybox:", "empty tag"},
      {"busybox@", "empty digest"},
      {"@sha256:" + hex64, "missing repository name"},
      {"busybox@sha256:abc", "sha256 wants 64 lowercase hex digits"},
      {"busybox@sha256:" + std::string(64, 'A'), "sha256 wants 64 lowercase hex digits"},
      {"busybox@sha256:" + hex64 + "0", "sha256 wants 64 lowercase hex digits"},
      {"busybox@sha512:" + hex64, "sha512 wants 128 lowercase hex digits"},
      {"busybox@md5:" + hex64, "unsupported digest algorithm \"md5\""},
      {"busybox@" + hex64, "want <algorithm>:<hex>"},
      {hex64, "64-byte hexadecimal"},
      {"busybox:.tag", "invalid tag \".tag\""},
      {"busybox:-tag", "invalid tag \"-tag\""},
      {"busybox:" + std::string(129, 'a'), "invalid tag"},
      {"busybox:t@g", "digest"},
      {"busy box", "invalid repository path component \"busy box\""},
      {"a..b", "invalid repository path component \"a..b\""},
      {"a___b", "invalid repository path component \"a___b\""},
      {"-a", "invalid repository path component \"-a\""},
      {"a-", "invalid repository path component \"a-\""},
      {"_a", "invalid repository path component \"_a\""},
      {"a.", "invalid repository path component \"a.\""},
      {"host:port/x", "invalid registry host \"host:port\""},
      {"host:/x", "invalid registry host \"host:\""},
      {"-host.io/x", "invalid registry host \"-host.io\""},
      {"a..io/x", "invalid registry host \"a..io\""},
      {"[::1/x", "invalid registry host \"[::1\""},
      {"[]:5000/x", "invalid registry host \"[]:5000\""},
      {"[::g]/x", "invalid registry host \"[::g]\""},
      {"Foo_Bar/x", "invalid registry host \"Foo_Bar\""},
      {"host.io/x/" + std::string(250, 'a'), "must not be more than 255 characters"},
      {std::string(250, 'a'), "must not be more than 255 characters"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = parse_reference(c.text);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(r.error().message(),
               Catch::StartsWith("invalid image reference \"" + c.text + "\": ") &&
                   Catch::Contains(c.fragment));
  }
}

TEST_CASE("the message names the reference and what is wrong") {
  auto r = parse_reference("Busybox");
  REQUIRE_FALSE(r);
  CHECK(r.error().message() ==
        "invalid image reference \"Busybox\": repository name must be lowercase");
}

TEST_CASE("a name of exactly 255 characters is accepted") {
  // "docker.io/library/" is 18 characters.
  auto r = parse_reference(std::string(255 - 18, 'a'));
  REQUIRE(r);
  CHECK(r->name().size() == 255);
  CHECK_FALSE(parse_reference(std::string(256 - 18, 'a')));
}

TEST_CASE("api_host maps Docker Hub to its API host") {
  CHECK(parse_reference("busybox")->api_host() == "registry-1.docker.io");
  CHECK(parse_reference("index.docker.io/x/y")->api_host() == "registry-1.docker.io");
  CHECK(parse_reference("quay.io/a/b")->api_host() == "quay.io");
  CHECK(parse_reference("localhost:5000/a")->api_host() == "localhost:5000");
  CHECK(parse_reference("[::1]:5000/a")->api_host() == "[::1]:5000");
}

TEST_CASE("is_loopback knows localhost, 127.0.0.0/8 and ::1, with or without a port") {
  for (std::string yes :
       {"localhost/a", "localhost:5000/a", "127.0.0.1/a", "127.0.0.1:5000/a", "127.1.2.3:80/a",
        "[::1]/a", "[::1]:5000/a", "LocalHost/a", "[0:0:0:0:0:0:0:1]:5000/a"}) {
    INFO(yes);
    auto r = parse_reference(yes);
    REQUIRE(r);
    CHECK(r->is_loopback());
  }
  for (std::string no :
       {"busybox", "quay.io/a", "128.0.0.1/a", "10.0.0.1:5000/a", "[::2]:5000/a",
        "localhost.example.com/a", "mylocalhost:5000/a", "127.0.0.1.example.com/a"}) {
    INFO(no);
    auto r = parse_reference(no);
    REQUIRE(r);
    CHECK_FALSE(r->is_loopback());
  }
}

TEST_CASE("a digest with a tag keeps both; the digest is what identifies the content") {
  auto r = parse_reference("quay.io/a/b:v1@sha256:" + hex64);
  REQUIRE(r);
  CHECK(r->tag == "v1");
  CHECK(r->digest == "sha256:" + hex64);
  CHECK(r->string() == "quay.io/a/b:v1@sha256:" + hex64);
}
