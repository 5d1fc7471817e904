#include "base/sys/process_title.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace ringcri::sys {

namespace {

// Fields 48 and 49 of /proc/self/stat: where argv's strings start and end.
bool argument_area(char*& begin, std::size_t& size) {
  int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[2048];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = 0;
  // After the command name in parentheses (which may hold anything), the
  // fields are plain numbers; "state" is field 3.
  char* p = std::strrchr(buf, ')');
  if (p == nullptr) return false;
  ++p;
  unsigned long long arg_start = 0, arg_end = 0;
  for (int field = 3; field <= 49; ++field) {
    while (*p == ' ') ++p;
    if (*p == 0) return false;
    char* end = p;
    unsigned long long value = std::strtoull(p, &end, 10);
    if (field == 48) arg_start = value;
    if (field == 49) arg_end = value;
    p = end;
    while (*p != ' ' && *p != 0) ++p;
  }
  if (arg_start == 0 || arg_end <= arg_start) return false;
  begin = reinterpret_cast<char*>(arg_start);
  size = static_cast<std::size_t>(arg_end - arg_start);
  return true;
}

}  // namespace

void set_process_title(std::string_view title) {
  char name[16] = {};
  std::memcpy(name, title.data(), std::min(title.size(), sizeof name - 1));
  ::prctl(PR_SET_NAME, name, 0, 0, 0);
  char* begin = nullptr;
  std::size_t size = 0;
  if (!argument_area(begin, size)) return;
  std::memset(begin, 0, size);
  std::memcpy(begin, title.data(), std::min(title.size(), size - 1));
}

}  // namespace ringcri::sys
