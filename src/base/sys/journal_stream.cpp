#include "base/sys/journal_stream.hpp"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <string_view>

namespace ringcri::sys {

bool is_journal_stream(int fd, const char* journal_stream) {
  if (journal_stream == nullptr) return false;
  std::string_view text(journal_stream);
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  auto whole = [](std::string_view digits, std::uint64_t& out) {
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return ec == std::errc() && end == digits.data() + digits.size() && !digits.empty();
  };
  if (!whole(text.substr(0, colon), device) || !whole(text.substr(colon + 1), inode)) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return static_cast<std::uint64_t>(st.st_dev) == device &&
         static_cast<std::uint64_t>(st.st_ino) == inode;
}

bool stderr_is_journal_stream() {
  return is_journal_stream(STDERR_FILENO, ::getenv("JOURNAL_STREAM"));
}

}  // namespace ringcri::sys
