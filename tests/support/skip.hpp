#pragma once
// How a test says that it did not run something, so that nothing passes by
// doing nothing. Both print a line `SKIP: <reason>` on stdout, which meson
// keeps in its test log; scripts/test-summary.py counts those lines and
// lists their reasons.
//
//   skip_binary: the whole binary needs what the machine lacks: exit 77,
//                meson's "skipped".
//   skip_case:   one TEST_CASE of a binary whose other cases run (Catch2
//                v2 has no per-case skip): the line, then the caller
//                returns from the case. Prefer a binary of its own for a
//                case that needs a feature, so that it can exit 77.
//
// Header-only: unit and integration tests both use it.

#include <cstdio>
#include <cstdlib>
#include <string>

namespace ringcri::testing {

inline void skip_case(const std::string& reason) {
  std::printf("SKIP: %s\n", reason.c_str());
  std::fflush(stdout);
}

// std::exit, not _exit: static fixtures (a registry) are stopped on the
// way out. Call it before a test starts anything of its own.
[[noreturn]] inline void skip_binary(const std::string& reason) {
  skip_case(reason);
  std::exit(77);
}

}  // namespace ringcri::testing
