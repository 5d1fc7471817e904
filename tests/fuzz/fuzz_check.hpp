#pragma once
// What the fuzz targets share: a check that aborts with its reason (so
// libFuzzer records the input as a crash, and the regression run fails),
// and a deterministic way to cut one input into pieces for parsers that
// must give the same result whatever pieces their bytes arrive in.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

namespace ringcri::fuzz {

[[noreturn]] inline void broken(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  std::abort();
}

// Unlike assert, never compiled out.
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : ::ringcri::fuzz::broken(#cond, __FILE__, __LINE__))

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline std::span<const std::byte> as_bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

// Piece sizes from 1 to 64 bytes taken from the input itself, so one input
// always splits the same way and different inputs split differently.
inline std::vector<std::string_view> pieces_of(std::string_view input) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  std::uint32_t seed = 2166136261u ^ static_cast<std::uint32_t>(input.size());
  while (at < input.size()) {
    seed = (seed ^ static_cast<unsigned char>(input[(at * 31) % input.size()])) * 16777619u;
    std::size_t n = 1 + seed % 64;
    out.push_back(input.substr(at, n));
    at += out.back().size();
  }
  return out;
}

}  // namespace ringcri::fuzz
