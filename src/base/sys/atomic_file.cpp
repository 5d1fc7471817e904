#include "base/sys/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/sys/random.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::sys {

namespace {

constexpr std::string_view temp_marker = ".tmp-";
constexpr std::size_t temp_random_bytes = 8;
// "." + name + marker + hex fits in a file name even for a 255-byte name:
// the random part alone keeps it unique.
constexpr std::size_t temp_name_max = NAME_MAX - 1 - temp_marker.size() - 2 * temp_random_bytes;

}  // namespace

std::string atomic_temp_name(std::string_view name) {
  return fmt::format(".{}{}{}", name.substr(0, temp_name_max), temp_marker,
                     random_hex(temp_random_bytes));
}

bool is_atomic_temp_name(std::string_view name) {
  return name.starts_with('.') && name.find(temp_marker) != std::string_view::npos;
}

result<void> write_file_atomic(int dir_fd, std::string_view dir_path, std::string_view name,
                               std::string_view data, mode_t mode, durability how) {
  const std::string target(name);
  const std::string temp = atomic_temp_name(name);
  auto fail_at = [&](std::string_view step, int e) {
    return fail_errno(e, fmt::format("{} {}/{}", step, dir_path, temp));
  };

  unique_fd fd(::openat(dir_fd, temp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode));
  if (!fd) return fail_at("create", errno);
  // From here on a failure unlinks the temp file.
  auto drop = [&](tl::unexpected<error> e) {
    ::unlinkat(dir_fd, temp.c_str(), 0);
    return e;
  };
  if (::fchmod(fd.get(), mode) != 0) return drop(fail_at("chmod", errno));
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return drop(fail_at("write", errno));
    if (n == 0) return drop(fail_at("write", EIO));  // no progress on a regular file
    done += static_cast<std::size_t>(n);
  }
  if (how != durability::unsynced && ::fsync(fd.get()) != 0) return drop(fail_at("fsync", errno));
  if (::close(fd.release()) != 0) return drop(fail_at("close", errno));
  if (::renameat(dir_fd, temp.c_str(), dir_fd, target.c_str()) != 0)
    return drop(fail_errno(errno, fmt::format("rename {}/{} to {}", dir_path, temp, target)));
  // The rename is durable once the directory is.
  if (how == durability::synced && ::fsync(dir_fd) != 0)
    return fail_errno(errno, fmt::format("fsync {}", dir_path));
  return {};
}

}  // namespace ringcri::sys
