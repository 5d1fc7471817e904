#include "cri/state/ids.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdlib>

namespace ringcri::cri::state {

std::string new_id() {
  std::array<unsigned char, full_id_length / 2> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::abort();  // ENOSYS or EFAULT: nothing sane to fall back to
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(full_id_length, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 0x0f];
  }
  return out;
}

bool is_full_id(std::string_view s) {
  if (s.size() != full_id_length) return false;
  for (char c : s) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex) return false;
  }
  return true;
}

}  // namespace ringcri::cri::state
