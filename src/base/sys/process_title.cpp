#include "base/sys/process_title.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char** environ;

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace ringcri::sys {

namespace {

struct area {
  char* begin = nullptr;
  std::size_t size = 0;
};

// Fields 48 to 51 of /proc/self/stat: where argv's strings start and end,
// then the environment's.
bool argument_and_environment(area& args, area& env) {
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
  unsigned long long value_of[52] = {};
  for (int field = 3; field <= 51; ++field) {
    while (*p == ' ') ++p;
    if (*p == 0) return false;
    char* end = p;
    value_of[field] = std::strtoull(p, &end, 10);
    p = end;
    while (*p != ' ' && *p != 0) ++p;
  }
  auto set = [&](area& a, unsigned long long start, unsigned long long end) {
    if (start == 0 || end <= start) return false;
    a.begin = reinterpret_cast<char*>(start);
    a.size = static_cast<std::size_t>(end - start);
    return true;
  };
  return set(args, value_of[48], value_of[49]) && set(env, value_of[50], value_of[51]);
}

}  // namespace

void set_process_title(std::string_view title) {
  char name[16] = {};
  std::memcpy(name, title.data(), std::min(title.size(), sizeof name - 1));
  ::prctl(PR_SET_NAME, name, 0, 0, 0);
  area args, env;
  if (!argument_and_environment(args, env)) return;
  std::memset(args.begin, 0, args.size);
  std::memcpy(args.begin, title.data(), std::min(title.size(), args.size - 1));
  // The environment we started with is no one else's business either.
  // environ's strings live there: the process forgets them (a spawned
  // child execs with the spec's environment, never its own).
  static char* no_environment[] = {nullptr};
  environ = no_environment;
  std::memset(env.begin, 0, env.size);
}

}  // namespace ringcri::sys
