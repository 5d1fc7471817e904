#include "cri/state/ids.hpp"

#include "base/sys/random.hpp"

namespace ringcri::cri::state {

std::string new_id() { return sys::random_hex(full_id_length / 2); }

bool is_full_id(std::string_view s) {
  if (s.size() != full_id_length) return false;
  for (char c : s) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex) return false;
  }
  return true;
}

}  // namespace ringcri::cri::state
