#include "base/sys/random.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ringcri::sys {

namespace {

[[noreturn]] void die(int e) noexcept {
  // write(2), not stdio: nothing here allocates or takes a lock.
  static constexpr char prefix[] = "ringcri: getrandom failed: ";
  const char* why = ::strerrordesc_np(e);
  if (why == nullptr) why = "unknown error";
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, prefix, sizeof prefix - 1);
  n = ::write(STDERR_FILENO, why, std::strlen(why));
  n = ::write(STDERR_FILENO, "\n", 1);
  std::abort();
}

}  // namespace

void random_bytes(std::span<std::byte> out) noexcept {
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::getrandom(out.data() + got, out.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      die(errno);
    }
    got += static_cast<std::size_t>(n);
  }
}

std::string random_hex(std::size_t bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes);
  std::byte chunk[32];
  while (out.size() < 2 * bytes) {
    std::size_t n = std::min(sizeof chunk, bytes - out.size() / 2);
    random_bytes({chunk, n});
    for (std::size_t i = 0; i < n; ++i) {
      auto b = static_cast<unsigned char>(chunk[i]);
      out.push_back(digits[b >> 4]);
      out.push_back(digits[b & 0x0f]);
    }
  }
  return out;
}

}  // namespace ringcri::sys
