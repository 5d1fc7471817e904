// Streaming decompression (image/unpack/decompressor.hpp): media types,
// sniffing, gzip through isa-l, zstd, and what corrupt or truncated input
// gives.

#include "image/unpack/decompressor.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <random>
#include <string>

#include "unpack_support.hpp"

using namespace ringcri;
using namespace ringcri::image;
using namespace unpack_test;

namespace {

// Compressible but not trivial: words from a small vocabulary plus noise.
std::string sample(std::size_t size, unsigned seed = 1) {
  static const char* words[] = {"layer ", "overlay ", "tar ", "gzip ",    "zstd ",
                                "\n",     "root ",    "etc/", "usr/lib/", "sha256 "};
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < size) {
    out += words[rng() % 10];
    if (rng() % 7 == 0) out.push_back(static_cast<char>(rng()));
  }
  out.resize(size);
  return out;
}

std::uint32_t crc32(std::string_view data) {
  std::uint32_t crc = 0xffffffffu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

struct run_result {
  std::string out;
  result<void> status;
};

// Feeds `in` to a decompressor of `codec` (sniffing when nullopt) in
// chunks of `chunk`, then finishes; stops at the first error.
run_result decompress(std::string_view in, std::size_t chunk,
                      std::optional<compression> codec = std::nullopt) {
  auto d = codec ? make_decompressor(*codec) : make_sniffing_decompressor();
  run_result r{{}, {}};
  auto sink = [&](std::span<const std::byte> piece) -> result<void> {
    r.out.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    return {};
  };
  for (std::size_t at = 0; at < in.size() && r.status; at += chunk)
    r.status = d->feed(bytes_of(in.substr(at, chunk)), sink);
  if (r.status) r.status = d->finish(sink);
  return r;
}

}  // namespace

TEST_CASE("layer media types map to their compression", "[media_type]") {
  using c = compression;
  for (const auto& [type, want] : std::vector<std::pair<std::string, c>>{
           {"application/vnd.oci.image.layer.v1.tar", c::none},
           {"application/vnd.oci.image.layer.v1.tar+gzip", c::gzip},
           {"application/vnd.oci.image.layer.v1.tar+zstd", c::zstd},
           {"application/vnd.oci.image.layer.nondistributable.v1.tar", c::none},
           {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", c::gzip},
           {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", c::zstd},
           {"application/vnd.docker.image.rootfs.diff.tar.gzip", c::gzip},
           {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", c::gzip},
       }) {
    INFO(type);
    auto got = compression_of_media_type(type);
    REQUIRE(got);
    CHECK(*got == want);
  }
}

TEST_CASE("an unknown media type is refused by name", "[media_type]") {
  for (std::string type : {"application/vnd.oci.image.config.v1+json", "application/x-tar",
                           "application/vnd.oci.image.layer.v1.tar+bzip2", ""}) {
    auto got = compression_of_media_type(type);
    REQUIRE_FALSE(got);
    CHECK(got.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(got.error().message(), Catch::Contains("\"" + type + "\""));
  }
}

TEST_CASE("the first bytes tell gzip, zstd and tar apart", "[sniff]") {
  CHECK(sniff_compression(bytes_of(gzip("x"))) == compression::gzip);
  CHECK(sniff_compression(bytes_of(zstd("x"))) == compression::zstd);
  CHECK(sniff_compression(bytes_of(std::string("\x50\x2a\x4d\x18", 4))) == compression::zstd);
  CHECK(sniff_compression(bytes_of("etc/passwd")) == compression::none);
  CHECK(sniff_compression(bytes_of("\x1f")) == compression::none);
  CHECK(sniff_compression({}) == compression::none);
}

TEST_CASE("gzip decompresses the same in 1-byte, 7-byte and 64 KiB chunks", "[gzip]") {
  std::string plain = sample(600'000);
  std::string packed = gzip(plain);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{64} << 10, packed.size()}) {
    INFO("chunk " << chunk);
    auto r = decompress(packed, chunk, compression::gzip);
    REQUIRE(r.status);
    CHECK(r.out == plain);
  }
}

// Regression: isa-l 2.30 parsing the header itself (ISAL_GZIP) fails the
// header CRC when the header arrives split over calls; ours reads it.
TEST_CASE("gzip headers with extra field, name, comment and CRC-16 read in any split", "[gzip]") {
  std::string plain = sample(50'000, 2);
  std::string packed = gzip(plain);  // -n: a bare 10-byte header
  std::string header = packed.substr(0, 10);
  header[3] = 0x1e;  // FHCRC | FEXTRA | FNAME | FCOMMENT
  header += std::string(
      "\x06\x00"
      "ab\x02\x00xy",
      8);  // XLEN 6, one subfield "ab" of 2 bytes
  header += std::string("layer.tar\0", 10);
  header += std::string("a comment\0", 10);
  std::uint32_t hcrc = crc32(header);  // FHCRC: the low 16 bits of the header's CRC-32
  std::string good = header;
  good.push_back(static_cast<char>(hcrc & 0xff));
  good.push_back(static_cast<char>(hcrc >> 8 & 0xff));
  good += packed.substr(10);
  for (std::size_t chunk :
       {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}, std::size_t{64} << 10}) {
    INFO("chunk " << chunk);
    auto r = decompress(good, chunk);
    if (!r.status) FAIL(r.status.error().message());
    CHECK(r.out == plain);
  }

  std::string bad_crc = header;
  bad_crc.push_back(static_cast<char>((hcrc & 0xff) ^ 1));
  bad_crc.push_back(static_cast<char>(hcrc >> 8 & 0xff));
  bad_crc += packed.substr(10);
  auto r = decompress(bad_crc, 64 << 10);
  REQUIRE_FALSE(r.status);
  CHECK_THAT(r.status.error().message(), Catch::Contains("header CRC mismatch"));

  std::string reserved = packed;
  reserved[3] = 0x20;
  auto rr = decompress(reserved, 3);
  REQUIRE_FALSE(rr.status);
  CHECK_THAT(rr.status.error().message(), Catch::Contains("reserved flag bits"));
}

TEST_CASE("gzip with several members decompresses to their concatenation", "[gzip]") {
  std::string a = sample(100'000, 3), b = sample(70'000, 4), c = sample(10, 5);
  std::string packed = gzip(a) + gzip(b) + gzip(c);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    auto r = decompress(packed, chunk, compression::gzip);
    REQUIRE(r.status);
    CHECK(r.out == a + b + c);
  }
}

TEST_CASE("gzip: zero padding after the last member is accepted, other bytes are not", "[gzip]") {
  std::string plain = sample(5'000, 6);
  auto padded = decompress(gzip(plain) + std::string(100, '\0'), 7);
  REQUIRE(padded.status);
  CHECK(padded.out == plain);

  auto garbage = decompress(gzip(plain) + "junk", 7);
  REQUIRE_FALSE(garbage.status);
  CHECK_THAT(garbage.status.error().message(), Catch::Contains("garbage after member 1"));
  auto late = decompress(gzip(plain) + std::string(10, '\0') + "x", 3);
  REQUIRE_FALSE(late.status);
  CHECK_THAT(late.status.error().message(), Catch::Contains("garbage after zero padding"));
}

TEST_CASE("corrupt gzip data is refused", "[gzip]") {
  std::string plain = sample(200'000, 7);
  std::string packed = gzip(plain);

  SECTION("a flipped byte in the deflate data") {
    std::string bad = packed;
    bad[bad.size() / 2] ^= 0x55;
    auto r = decompress(bad, 4096);
    REQUIRE_FALSE(r.status);
    CHECK(r.status.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(r.status.error().message(),
               Catch::StartsWith("corrupt gzip stream at compressed byte"));
  }
  SECTION("a wrong CRC-32 in the trailer") {
    std::string bad = packed;
    bad[bad.size() - 8] ^= 0x01;
    auto r = decompress(bad, 1);
    REQUIRE_FALSE(r.status);
    CHECK_THAT(r.status.error().message(), Catch::Contains("CRC-32 or length mismatch"));
  }
  SECTION("a wrong length in the trailer") {
    std::string bad = packed;
    bad[bad.size() - 4] ^= 0x01;
    auto r = decompress(bad, 64 << 10);
    REQUIRE_FALSE(r.status);
    CHECK_THAT(r.status.error().message(), Catch::Contains("mismatch"));
  }
  SECTION("a compression method other than deflate") {
    std::string bad = packed;
    bad[2] = 0x07;
    auto r = decompress(bad, 64 << 10);
    REQUIRE_FALSE(r.status);
    CHECK_THAT(r.status.error().message(), Catch::Contains("compression method 7, not deflate"));
  }
}

TEST_CASE("truncated gzip is refused at finish", "[gzip]") {
  std::string packed = gzip(sample(100'000, 8));
  for (std::size_t keep :
       {std::size_t{5}, std::size_t{10}, packed.size() / 2, packed.size() - 1, packed.size() - 8}) {
    INFO("keep " << keep);
    auto r = decompress(std::string_view(packed).substr(0, keep), 7, compression::gzip);
    REQUIRE_FALSE(r.status);
    CHECK(r.status.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(r.status.error().message(), Catch::StartsWith("truncated gzip stream"));
  }
  auto empty = decompress("", 1, compression::gzip);
  CHECK_FALSE(empty.status);
}

TEST_CASE("zstd decompresses the same in any chunks, across frames", "[zstd]") {
  std::string a = sample(500'000, 9), b = sample(30'000, 10);
  std::string packed = zstd(a) + zstd(b);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{64} << 10}) {
    INFO("chunk " << chunk);
    auto r = decompress(packed, chunk);
    REQUIRE(r.status);
    CHECK(r.out == a + b);
  }
}

TEST_CASE("zstd: a skippable frame first is skipped and still sniffed as zstd", "[zstd]") {
  std::string plain = sample(20'000, 11);
  std::string skippable(
      "\x50\x2a\x4d\x18\x03\x00\x00\x00"
      "abc",
      11);
  auto r = decompress(skippable + zstd(plain), 2);
  REQUIRE(r.status);
  CHECK(r.out == plain);
}

TEST_CASE("corrupt and truncated zstd are refused", "[zstd]") {
  std::string packed = zstd(sample(300'000, 12));
  SECTION("corrupt") {
    std::string bad = packed;
    for (std::size_t i = bad.size() / 3; i < bad.size() / 3 + 16; ++i) bad[i] ^= 0x5a;
    auto r = decompress(bad, 4096);
    REQUIRE_FALSE(r.status);
    CHECK_THAT(r.status.error().message(), Catch::StartsWith("corrupt zstd stream"));
  }
  SECTION("truncated") {
    for (std::size_t keep : {std::size_t{6}, packed.size() / 2, packed.size() - 1}) {
      auto r = decompress(std::string_view(packed).substr(0, keep), 7, compression::zstd);
      REQUIRE_FALSE(r.status);
      CHECK_THAT(r.status.error().message(), Catch::StartsWith("truncated zstd stream"));
    }
  }
  SECTION("trailing garbage") {
    auto r = decompress(packed + "garbage!", 64 << 10);
    REQUIRE_FALSE(r.status);
    CHECK_THAT(r.status.error().message(), Catch::StartsWith("corrupt zstd stream"));
  }
}

TEST_CASE("uncompressed input passes through, however short", "[identity]") {
  std::string plain = "ab";  // shorter than the 4 sniffed bytes
  auto r = decompress(plain, 1);
  REQUIRE(r.status);
  CHECK(r.out == plain);
  std::string tar = sample(100'000, 13);
  tar[0] = 'a';
  auto big = decompress(tar, 7);
  REQUIRE(big.status);
  CHECK(big.out == tar);
}

TEST_CASE("the sniffing decompressor follows the bytes and reports the codec", "[sniff]") {
  std::string plain = sample(1000, 14);
  for (auto [packed, want] :
       std::vector<std::pair<std::string, compression>>{{gzip(plain), compression::gzip},
                                                        {zstd(plain), compression::zstd},
                                                        {plain, compression::none}}) {
    auto d = make_sniffing_decompressor();
    std::string out;
    auto sink = [&](std::span<const std::byte> p) -> result<void> {
      out.append(reinterpret_cast<const char*>(p.data()), p.size());
      return {};
    };
    REQUIRE(d->feed(bytes_of(packed), sink));
    REQUIRE(d->finish(sink));
    CHECK(d->kind() == want);
    CHECK(out == plain);
  }
}

TEST_CASE("an error from the sink stops decompression and comes back out", "[gzip]") {
  std::string packed = gzip(sample(1'000'000, 15));
  auto d = make_decompressor(compression::gzip);
  int calls = 0;
  auto sink = [&](std::span<const std::byte>) -> result<void> {
    if (++calls == 2) return fail(error_kind::resource_exhausted, "disk full");
    return {};
  };
  auto r = d->feed(bytes_of(packed), sink);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::resource_exhausted);
  CHECK(calls == 2);
}
