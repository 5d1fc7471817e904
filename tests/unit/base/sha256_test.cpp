// sys::sha256 (src/base/sys/sha256.hpp): the FIPS 180-2 vectors, and
// streaming over any chunking checked against sha256sum(1).

#include "base/sys/sha256.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "base_support.hpp"

using namespace ringcri;
using namespace base_test;

namespace {

constexpr std::string_view abc_hex =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view empty_hex =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// What coreutils says, from outside the code under test.
std::string sha256sum(const std::string& data) {
  temp_dir t;
  spit(t.path / "in", data);
  FILE* p = ::popen(("sha256sum " + (t.path / "in").string()).c_str(), "r");
  char buf[65] = {};
  if (!p || std::fread(buf, 1, 64, p) != 64) throw std::runtime_error("sha256sum");
  ::pclose(p);
  return buf;
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-2 vectors") {
  CHECK(sys::sha256_hex(std::string_view("abc")) == abc_hex);
  CHECK(sys::sha256_hex(std::string_view()) == empty_hex);
  CHECK(sys::sha256_hex(
            std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("streaming sha256 over any chunking equals one pass and sha256sum") {
  std::string data;
  for (int i = 0; i < 300'000; ++i) data.push_back(static_cast<char>((i * 7919) ^ (i >> 5)));
  const std::string whole = sys::sha256_hex(std::string_view(data));
  CHECK(whole == sha256sum(data));
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{64} << 10}) {
    INFO(chunk);
    sys::sha256 h;
    for (std::size_t at = 0; at < data.size(); at += chunk)
      h.update(std::string_view(data).substr(at, chunk));
    CHECK(h.size() == data.size());
    CHECK(h.finish() == whole);
    // The hasher starts over after finish().
    CHECK(h.size() == 0);
    h.update(std::string_view("abc"));
    CHECK(h.finish() == abc_hex);
  }
}

TEST_CASE("a moved hasher carries on where it was") {
  sys::sha256 a;
  a.update(std::string_view("ab"));
  sys::sha256 b = std::move(a);
  b.update(std::string_view("c"));
  CHECK(b.finish() == abc_hex);
}
