// PATH lookup of the command inside the container.

#include "exec/spawn/path_lookup.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <string_view>

namespace ringcri::exec::spawn_detail {

namespace {
// 0 if `path` is an executable file, else the errno exec would give.
int check_executable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) return errno;
  if (S_ISDIR(st.st_mode)) return EACCES;
  if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) return EACCES;
  return 0;
}

std::string path_of(const process_spec& process) {
  for (const std::string& kv : process.env)
    if (kv.rfind("PATH=", 0) == 0) return kv.substr(5);
  return default_path;
}
}  // namespace

result<std::string> find_executable(const process_spec& process) {
  if (process.args.empty() || process.args[0].empty())
    return fail(error_kind::invalid_argument, "no command given (args is empty)");
  const std::string& name = process.args[0];
  if (name.find('/') != std::string::npos) {
    if (int e = check_executable(name); e != 0) return fail_errno(e, fmt::format("\"{}\"", name));
    return name;
  }
  const std::string path = path_of(process);
  bool denied = false;
  std::string denied_at;
  size_t pos = 0;
  for (;;) {
    size_t end = path.find(':', pos);
    std::string_view dir = std::string_view(path).substr(
        pos, end == std::string::npos ? std::string::npos : end - pos);
    if (dir.empty()) dir = ".";
    std::string candidate = fmt::format("{}/{}", dir, name);
    int e = check_executable(candidate);
    if (e == 0) return candidate;
    if (e == EACCES && !denied) {
      denied = true;
      denied_at = candidate;
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  if (denied) return fail_errno(EACCES, fmt::format("\"{}\"", denied_at));
  return tl::unexpected(error(error_kind::not_found,
                              fmt::format("executable file \"{}\" not found in $PATH", name),
                              ENOENT));
}

}  // namespace ringcri::exec::spawn_detail
