// Digest strings (image/digest.hpp); the streaming sha256 under
// them is tested in tests/unit/base/sha256_test.cpp.

#include "image/digest.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "unpack_support.hpp"

using namespace ringcri;
using namespace ringcri::image;
using namespace unpack_test;

namespace {
constexpr std::string_view abc_sha256 =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view empty_sha256 =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
}  // namespace

TEST_CASE("a sha256 digest parses and keeps its parts", "[digest]") {
  auto d = digest::parse(abc_sha256);
  REQUIRE(d);
  CHECK(d->string() == abc_sha256);
  CHECK(d->algorithm() == "sha256");
  CHECK(d->hex() == abc_sha256.substr(7));
}

TEST_CASE("malformed and unsupported digests are refused by name", "[digest]") {
  struct bad_case {
    std::string text;
    std::string says;
  };
  std::string hex(abc_sha256.substr(7));
  for (const auto& [text, says] : std::vector<bad_case>{
           {"", "want algorithm:hex"},
           {hex, "want algorithm:hex"},
           {":" + hex, "bad algorithm"},
           {"SHA256:" + hex, "bad algorithm"},
           {"sha256:" + hex.substr(1), "64 hex digits, got 63"},
           {"sha256:" + hex + "0", "64 hex digits, got 65"},
           {"sha256:" + std::string(64, 'A'), "not lowercase hex"},
           {"sha256:" + std::string(63, 'a') + "g", "not lowercase hex"},
           {"sha512:" + std::string(128, 'a'), "unsupported digest algorithm \"sha512\""},
           {"blake3:" + hex, "unsupported digest algorithm \"blake3\""},
           {"sha256+b64u:abc", "unsupported digest algorithm \"sha256+b64u\""},
       }) {
    INFO(text);
    auto d = digest::parse(text);
    REQUIRE_FALSE(d);
    CHECK(d.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(d.error().message(), Catch::Contains(says));
    if (!text.empty()) CHECK_THAT(d.error().message(), Catch::Contains(text));
  }
}

TEST_CASE("sha256 digests match the FIPS 180-2 vectors", "[digest]") {
  CHECK(sha256_of(bytes_of("abc")).string() == abc_sha256);
  CHECK(sha256_of(bytes_of("")).string() == empty_sha256);
}

TEST_CASE("a digest of a streamed hasher equals sha256sum's and parses back", "[digest]") {
  std::string data;
  for (int i = 0; i < 300'000; ++i) data.push_back(static_cast<char>((i * 7919) ^ (i >> 5)));
  ringcri::sys::sha256 h;
  in_chunks(data, 4096, [&](auto piece) { h.update(piece); });
  digest d = digest::of(h);
  CHECK(d.algorithm() == "sha256");
  CHECK(d.hex() == sha256_hex_cli(data));
  CHECK(*digest::parse(d.string()) == d);
  // The hasher started over.
  CHECK(digest::of(h).string() == empty_sha256);
}

TEST_CASE("digests compare and order by their text", "[digest]") {
  auto a = digest::parse(abc_sha256);
  auto b = digest::parse(empty_sha256);
  CHECK(*a == *digest::parse(abc_sha256));
  CHECK(*a != *b);
  CHECK(*a < *b);
}
