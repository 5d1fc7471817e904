// Index, manifest and config parsing for the four manifest kinds, and the
// choice of a platform, on fixture JSON (testdata/).

#include "image/registry/manifest.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "image/registry/image_config.hpp"
#include "image/registry/media_types.hpp"
#include "image/registry/platform.hpp"

using namespace ringcri;
using namespace ringcri::image;

namespace {

std::string fixture(const std::string& name) {
  const char* dir = std::getenv("REGISTRY_TESTDATA");
  std::string path = std::string(dir ? dir : "testdata") + "/" + name;
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The fixtures' digests: a pattern repeated to 64 hex digits.
std::string digest_of(std::string_view pattern) {
  std::string hex;
  while (hex.size() < 64) hex += pattern;
  return "sha256:" + hex.substr(0, 64);
}
std::string digest_of(char c) { return digest_of(std::string_view(&c, 1)); }

platform make_platform(std::string os, std::string arch, std::string variant = "") {
  platform p;
  p.os = std::move(os);
  p.architecture = std::move(arch);
  p.variant = std::move(variant);
  return p;
}

image_index oci_index() {
  auto idx = parse_index(fixture("oci_index.json"), media_types::oci_index);
  REQUIRE(idx);
  return *idx;
}

image_index docker_list() {
  auto idx = parse_index(fixture("docker_list.json"), media_types::docker_list);
  REQUIRE(idx);
  return *idx;
}

std::string chosen(const image_index& idx, const platform& p) {
  auto d = choose_manifest(idx, p);
  if (!d) return "error: " + d.error().message();
  return d->digest;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("an OCI index parses with its entries' platforms") {
  image_index idx = oci_index();
  CHECK(idx.media_type == media_types::oci_index);
  REQUIRE(idx.manifests.size() == 6);
  const descriptor& first = idx.manifests[0];
  CHECK(first.media_type == media_types::oci_manifest);
  CHECK(first.digest == digest_of('1'));
  CHECK(first.size == 1001);
  REQUIRE(first.platform);
  CHECK(first.platform->string() == "linux/amd64");
  const descriptor& windows = idx.manifests[4];
  REQUIRE(windows.platform);
  CHECK(windows.platform->os_version == "10.0.17763.5329");
  CHECK(windows.platform->os_features == std::vector<std::string>{"win32k"});
  CHECK(idx.manifests[5].annotations.at("vnd.docker.reference.type") == "attestation-manifest");
}

TEST_CASE("a Docker manifest list parses") {
  image_index idx = docker_list();
  CHECK(idx.media_type == media_types::docker_list);
  REQUIRE(idx.manifests.size() == 5);
  CHECK(idx.manifests[1].platform->string() == "linux/arm/v5");
  CHECK(idx.manifests[2].platform->variant.empty());
}

TEST_CASE("an OCI manifest parses into its config and layers") {
  auto m = parse_manifest(fixture("oci_manifest.json"), media_types::oci_manifest);
  REQUIRE(m);
  CHECK(m->media_type == media_types::oci_manifest);
  CHECK(m->config.media_type == media_types::oci_config);
  CHECK(m->config.digest == digest_of("c0"));
  CHECK(m->config.size == 1470);
  REQUIRE(m->layers.size() == 3);
  CHECK(m->layers[0].media_type == media_types::oci_layer_gzip);
  CHECK(m->layers[0].size == 3370706);
  CHECK(m->layers[1].media_type == media_types::oci_layer_zstd);
  CHECK(m->layers[1].annotations.at("org.example.note") == "zstd");
  CHECK(m->layers[2].media_type == media_types::oci_layer);
}

TEST_CASE("a Docker schema 2 manifest parses, foreign layers with their URLs") {
  auto m = parse_manifest(fixture("docker_manifest.json"), media_types::docker_manifest);
  REQUIRE(m);
  CHECK(m->config.media_type == media_types::docker_config);
  REQUIRE(m->layers.size() == 2);
  CHECK(m->layers[0].media_type == media_types::docker_layer_gzip);
  CHECK(m->layers[1].media_type == media_types::docker_layer_foreign_gzip);
  CHECK(m->layers[1].urls.size() == 1);
}

TEST_CASE("the manifest for each platform is chosen from an OCI index") {
  image_index idx = oci_index();
  CHECK(chosen(idx, make_platform("linux", "amd64")) == digest_of('1'));
  CHECK(chosen(idx, make_platform("linux", "arm64", "v8")) == digest_of('2'));
  CHECK(chosen(idx, make_platform("linux", "arm64")) == digest_of('2'));      // no variant is v8
  CHECK(chosen(idx, make_platform("linux", "arm", "v7")) == digest_of('4'));  // not the v6
  CHECK(chosen(idx, make_platform("linux", "arm", "v6")) == digest_of('3'));
  CHECK(chosen(idx, make_platform("windows", "amd64")) == digest_of('5'));
  CHECK(chosen(idx, make_platform("linux", "x86_64")) == digest_of('1'));

  auto none = choose_manifest(idx, make_platform("linux", "s390x"));
  REQUIRE_FALSE(none);
  CHECK(none.error().kind() == error_kind::not_found);
  CHECK(contains(none.error().message(), "linux/s390x"));
  CHECK(contains(none.error().message(), "linux/arm64/v8"));
  CHECK_FALSE(contains(none.error().message(), "unknown"));  // the attestation is no image

  auto v5 = choose_manifest(idx, make_platform("linux", "arm", "v5"));
  CHECK_FALSE(v5);  // a v5 host runs neither the v6 nor the v7 image
}

TEST_CASE("the manifest for each platform is chosen from a Docker list") {
  image_index idx = docker_list();
  CHECK(chosen(idx, make_platform("linux", "amd64")) == digest_of('a'));
  CHECK(chosen(idx, make_platform("linux", "arm64", "v8")) == digest_of('c'));
  CHECK(chosen(idx, make_platform("linux", "arm", "v7")) == digest_of('b'));  // v5 runs on v7
  CHECK(chosen(idx, make_platform("linux", "386")) == digest_of('d'));
  CHECK(chosen(idx, make_platform("linux", "ppc64le")) == digest_of('e'));
  CHECK_FALSE(choose_manifest(idx, make_platform("windows", "amd64")));
}

TEST_CASE("the host platform follows uname's machine") {
  CHECK(platform_for_machine("x86_64").string() == "linux/amd64");
  CHECK(platform_for_machine("aarch64").string() == "linux/arm64/v8");
  CHECK(platform_for_machine("armv7l").string() == "linux/arm/v7");
  CHECK(platform_for_machine("armv6l").string() == "linux/arm/v6");
  CHECK(platform_for_machine("i686").string() == "linux/386");
  CHECK(platform_for_machine("s390x").string() == "linux/s390x");
  CHECK(platform_for_machine("ppc64le").string() == "linux/ppc64le");
  CHECK(host_platform().os == "linux");
  CHECK_FALSE(host_platform().architecture.empty());
}

TEST_CASE("a manifest's media type comes from the header, its mediaType or its fields") {
  std::string oci = fixture("oci_manifest.json");
  auto a = manifest_media_type("application/vnd.oci.image.index.v1+json; charset=utf-8", "{}");
  REQUIRE(a);
  CHECK(*a == media_types::oci_index);
  auto b = manifest_media_type("application/json", oci);
  REQUIRE(b);
  CHECK(*b == media_types::oci_manifest);
  auto c = manifest_media_type("", R"({"schemaVersion":2,"manifests":[]})");
  REQUIRE(c);
  CHECK(*c == media_types::oci_index);
  auto d = manifest_media_type("", R"({"schemaVersion":2,"config":{},"layers":[]})");
  REQUIRE(d);
  CHECK(*d == media_types::oci_manifest);

  auto schema1 = manifest_media_type(media_types::docker_schema1_signed, "{}");
  REQUIRE_FALSE(schema1);
  CHECK(schema1.error().kind() == error_kind::unimplemented);
  auto schema1_body = manifest_media_type("application/json", R"({"schemaVersion":1})");
  REQUIRE_FALSE(schema1_body);
  CHECK(schema1_body.error().kind() == error_kind::unimplemented);
  auto html = manifest_media_type("text/html", "<html>");
  REQUIRE_FALSE(html);
  CHECK(html.error().kind() == error_kind::failed_precondition);
}

TEST_CASE("malformed indexes and manifests are refused saying why") {
  auto check = [](const result<image_manifest>& m, error_kind kind, const std::string& part) {
    REQUIRE_FALSE(m);
    CHECK(m.error().kind() == kind);
    CHECK(contains(m.error().message(), part));
  };
  check(parse_manifest("not json", media_types::oci_manifest), error_kind::invalid_argument,
        "not valid JSON");
  check(parse_manifest(R"({"schemaVersion":1,"config":{},"layers":[]})", media_types::oci_manifest),
        error_kind::invalid_argument, "schemaVersion is not 2");
  check(parse_manifest(fixture("oci_manifest.json"), media_types::docker_manifest),
        error_kind::invalid_argument, "mediaType application/vnd.oci.image.manifest.v1+json");
  check(parse_manifest(fixture("oci_index.json"), media_types::oci_index),
        error_kind::invalid_argument, "not an image manifest media type");

  std::string cfg = R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json",)"
                    R"("digest":"sha256:)" +
                    std::string(64, 'c') + R"(","size":1})";
  check(parse_manifest(R"({"schemaVersion":2,)" + cfg + "}", media_types::oci_manifest),
        error_kind::invalid_argument, "\"layers\" is not an array");
  check(parse_manifest(R"({"schemaVersion":2,)" + cfg +
                           R"(,"layers":[{"mediaType":"x","digest":"md5:abc","size":1}]})",
                       media_types::oci_manifest),
        error_kind::invalid_argument, "layers[0]: digest \"md5:abc\"");
  check(parse_manifest(R"({"schemaVersion":2,)" + cfg +
                           R"(,"layers":[{"mediaType":"x","digest":"sha256:)" +
                           std::string(64, 'a') + R"(","size":-4}]})",
                       media_types::oci_manifest),
        error_kind::invalid_argument, "size missing or negative");
  check(parse_manifest(R"({"schemaVersion":2,"layers":[],"config":{"mediaType":)"
                       R"("application/vnd.cncf.helm.config.v1+json","digest":"sha256:)" +
                           std::string(64, 'c') + R"(","size":1}})",
                       media_types::oci_manifest),
        error_kind::failed_precondition, "not a container image");

  auto idx = parse_index(R"({"schemaVersion":2,"manifests":[{"digest":"sha256:)" +
                             std::string(64, 'a') + R"(","size":1}]})",
                         media_types::oci_index);
  REQUIRE_FALSE(idx);
  CHECK(contains(idx.error().message(), "manifests[0]: no \"mediaType\""));
}

TEST_CASE("an OCI image config gives what a container runs and its diff ids") {
  auto c = parse_image_config(fixture("oci_config.json"));
  REQUIRE(c);
  CHECK(c->os == "linux");
  CHECK(c->architecture == "arm64");
  CHECK(c->variant == "v8");
  CHECK(c->diff_ids == std::vector<std::string>{digest_of("d1"), digest_of("d2"), digest_of("d3")});
  CHECK(c->env == std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin", "TZ=UTC"});
  CHECK(c->entrypoint == std::vector<std::string>{"/usr/bin/tini", "--"});
  CHECK(c->cmd == std::vector<std::string>{"nginx", "-g", "daemon off;"});
  CHECK(c->working_dir == "/srv");
  CHECK(c->user == "nobody");
  CHECK(c->stop_signal == "SIGQUIT");
  CHECK(c->volumes == std::vector<std::string>{"/data", "/var/log"});
  CHECK(c->labels.at("maintainer") == "ops");
  CHECK(c->labels.size() == 2);
}

TEST_CASE("a Docker image config with null fields gives defaults") {
  auto c = parse_image_config(fixture("docker_config.json"));
  REQUIRE(c);
  CHECK(c->architecture == "amd64");
  CHECK(c->cmd == std::vector<std::string>{"sh"});
  CHECK(c->entrypoint.empty());
  CHECK(c->volumes.empty());
  CHECK(c->labels.empty());
  CHECK(c->working_dir.empty());
  CHECK(c->diff_ids.size() == 1);
}

TEST_CASE("a malformed image config is refused saying why") {
  auto bad = [](const std::string& json, const std::string& part) {
    auto c = parse_image_config(json);
    REQUIRE_FALSE(c);
    CHECK(c.error().kind() == error_kind::invalid_argument);
    CHECK(contains(c.error().message(), part));
  };
  bad("[]", "not a JSON object");
  bad(R"({"os":"linux"})", "no \"rootfs\"");
  bad(R"({"rootfs":{"type":"other","diff_ids":[]}})", "rootfs.type is \"other\"");
  bad(R"({"rootfs":{"type":"layers","diff_ids":["sha256:xyz"]}})", "diff id \"sha256:xyz\"");
  bad(R"({"rootfs":{"type":"layers","diff_ids":[]},"config":{"Env":"PATH=/bin"}})",
      "\"Env\" is not an array");
}
