#include "base/sys/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

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

namespace {

// A temp file beside `name` holding `data`, its writeback started (so that
// many fsyncs after it find their data on its way). The caller renames it
// or unlinks it.
struct written_temp {
  std::string temp;
  unique_fd fd;
};

result<written_temp> write_temp(int dir_fd, std::string_view dir_path, std::string_view name,
                                std::string_view data, mode_t mode) {
  written_temp out{atomic_temp_name(name), {}};
  auto fail_at = [&](std::string_view step, int e) {
    return fail_errno(e, fmt::format("{} {}/{}", step, dir_path, out.temp));
  };
  out.fd.reset(::openat(dir_fd, out.temp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode));
  if (!out.fd) return fail_at("create", errno);
  // From here on a failure unlinks the temp file.
  auto drop = [&](tl::unexpected<error> e) {
    ::unlinkat(dir_fd, out.temp.c_str(), 0);
    return e;
  };
  if (::fchmod(out.fd.get(), mode) != 0) return drop(fail_at("chmod", errno));
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(out.fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return drop(fail_at("write", errno));
    if (n == 0) return drop(fail_at("write", EIO));  // no progress on a regular file
    done += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace

result<void> write_file_atomic(int dir_fd, std::string_view dir_path, std::string_view name,
                               std::string_view data, mode_t mode, durability how) {
  auto t = write_temp(dir_fd, dir_path, name, data, mode);
  if (!t) return tl::unexpected(std::move(t.error()));
  auto drop = [&](tl::unexpected<error> e) {
    ::unlinkat(dir_fd, t->temp.c_str(), 0);
    return e;
  };
  auto fail_at = [&](std::string_view step, int e) {
    return fail_errno(e, fmt::format("{} {}/{}", step, dir_path, t->temp));
  };
  if (how == durability::synced && ::fsync(t->fd.get()) != 0) return drop(fail_at("fsync", errno));
  if (::close(t->fd.release()) != 0) return drop(fail_at("close", errno));
  if (::renameat(dir_fd, t->temp.c_str(), dir_fd, std::string(name).c_str()) != 0)
    return drop(fail_errno(errno, fmt::format("rename {}/{} to {}", dir_path, t->temp, name)));
  // The rename is durable once the directory is.
  if (how == durability::synced && ::fsync(dir_fd) != 0)
    return fail_errno(errno, fmt::format("fsync {}", dir_path));
  return {};
}

result<void> write_files_atomic(int dir_fd, std::string_view dir_path, std::span<const named_bytes> files,
                                mode_t mode) {
  std::vector<written_temp> temps;
  temps.reserve(files.size());
  auto drop_all = [&](tl::unexpected<error> e) {
    for (const auto& t : temps) ::unlinkat(dir_fd, t.temp.c_str(), 0);
    return e;
  };
  // Every temp written, and its writeback started, before the first fsync:
  // one file-system commit then covers most of them.
  for (const auto& f : files) {
    auto t = write_temp(dir_fd, dir_path, f.name, f.bytes, mode);
    if (!t) return drop_all(tl::unexpected(std::move(t.error())));
    ::sync_file_range(t->fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);  // a hint: fsync below is the promise
    temps.push_back(std::move(*t));
  }
  for (auto& t : temps) {
    if (::fsync(t.fd.get()) != 0)
      return drop_all(fail_errno(errno, fmt::format("fsync {}/{}", dir_path, t.temp)));
    if (::close(t.fd.release()) != 0)
      return drop_all(fail_errno(errno, fmt::format("close {}/{}", dir_path, t.temp)));
  }
  for (std::size_t i = 0; i < temps.size(); ++i) {
    if (::renameat(dir_fd, temps[i].temp.c_str(), dir_fd, std::string(files[i].name).c_str()) != 0) {
      auto failed = fail_errno(errno, fmt::format("rename {}/{} to {}", dir_path, temps[i].temp, files[i].name));
      temps.erase(temps.begin(), temps.begin() + static_cast<std::ptrdiff_t>(i));  // those renamed stay
      return drop_all(std::move(failed));
    }
  }
  if (::fsync(dir_fd) != 0) return fail_errno(errno, fmt::format("fsync {}", dir_path));
  return {};
}

}  // namespace ringcri::sys
