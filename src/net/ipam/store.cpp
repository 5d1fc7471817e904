#include "net/ipam/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crash_point.hpp"
#include "base/sys/list_dir.hpp"
#include "base/sys/make_dirs.hpp"

namespace ringcri::net::ipam {

namespace {

constexpr const char* last_reserved_prefix = "last_reserved_ip.";
constexpr const char* line_break = "\r\n";  // host-local's LineBreak, on every OS

// Go's strings.TrimSpace for the ASCII the files hold.
std::string_view trim(std::string_view s) {
  constexpr std::string_view space = " \t\n\v\f\r";
  auto first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

std::optional<std::string> read_small_file(int dir, const std::string& name) {
  unique_fd fd(::openat(dir, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return std::nullopt;
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > 4096) return std::nullopt;  // not a reservation file
  }
  return text;
}

result<void> write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, "write");
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

result<store> store::open(const std::string& data_dir, const std::string& network) {
  std::string path = data_dir + "/" + network;
  auto made = sys::make_dirs(path, 0755);
  if (!made)
    return tl::unexpected(
        std::move(made.error()).context(fmt::format("host-local store {}", path)));
  unique_fd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return fail_errno(errno, fmt::format("open host-local store {}", path));
  // go-filemutex opens it O_CREAT|O_RDONLY with mode 0750.
  unique_fd lock(::openat(dir.get(), "lock", O_RDONLY | O_CREAT | O_CLOEXEC, 0750));
  if (!lock) return fail_errno(errno, fmt::format("open host-local lock {}/lock", path));
  return store(std::move(path), std::move(dir), std::move(lock));
}

store::guard::~guard() {
  if (fd_ >= 0) ::flock(fd_, LOCK_UN);
}

result<store::guard> store::lock() {
  while (::flock(lock_.get(), LOCK_EX) != 0)
    if (errno != EINTR) return fail_errno(errno, fmt::format("lock host-local store {}", path_));
  return guard(lock_.get());
}

result<bool> store::reserve(const std::string& container_id, const std::string& ifname,
                            const ip::address& a, std::size_t range_set_index) {
  std::string name = a.to_string();
  const std::string content = std::string(trim(container_id)) + line_break + ifname;
  // Published whole: written into a file without a name (O_TMPFILE), then
  // linked under the address, which fails if the address is taken, as
  // O_EXCL would. A file made under the address and written after could
  // be left empty by a crash between the two: it would hold the address
  // for nobody, since a release finds a pod's files by their content.
  // Mode 0644, as the host-local of Debian 12 (plugins v1.1.1) writes it.
  unique_fd fd(::openat(dir_.get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644));
  if (!fd) return fail_errno(errno, fmt::format("reserve {}/{}", path_, name));
  if (auto written = write_all(fd.get(), content); !written)
    return tl::unexpected(std::move(written.error()).context(fmt::format("reserve {}/{}", path_, name)));
  crash_point(point("ipam_store.before_link"));
  const std::string unnamed = fmt::format("/proc/self/fd/{}", fd.get());
  if (::linkat(AT_FDCWD, unnamed.c_str(), dir_.get(), name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
    if (errno == EEXIST) return false;
    return fail_errno(errno, fmt::format("reserve {}/{}", path_, name));
  }
  std::string last = last_reserved_prefix + std::to_string(range_set_index);
  unique_fd last_fd(
      ::openat(dir_.get(), last.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!last_fd) return fail_errno(errno, fmt::format("write {}/{}", path_, last));
  auto recorded = write_all(last_fd.get(), name);
  if (!recorded)
    return tl::unexpected(
        std::move(recorded.error()).context(fmt::format("write {}/{}", path_, last)));
  return true;
}

std::optional<ip::address> store::last_reserved(std::size_t range_set_index) {
  auto text = read_small_file(dir_.get(), last_reserved_prefix + std::to_string(range_set_index));
  if (!text) return std::nullopt;
  // Go's net.ParseIP of the whole content: no trimming.
  return ip::address::parse(*text);
}

std::vector<std::string> store::files_matching(const std::string& match) {
  std::vector<std::string> found;
  auto entries = sys::list_dir(dir_.get());
  if (!entries) return found;
  for (const auto& entry : *entries) {
    if (entry.type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(dir_.get(), entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISREG(st.st_mode))
        continue;
    } else if (entry.type != DT_REG) {
      continue;
    }
    auto text = read_small_file(dir_.get(), entry.name);
    if (text && trim(*text) == match) found.push_back(entry.name);
  }
  return found;
}

std::vector<ip::address> store::held_by(const std::string& container_id,
                                        const std::string& ifname) {
  std::string id(trim(container_id));
  std::vector<ip::address> held;
  for (const std::string& match : {id + line_break + ifname, id})
    for (const std::string& name : files_matching(match))
      if (auto a = ip::address::parse(name)) held.push_back(*a);
  return held;
}

result<bool> store::release(const std::string& container_id, const std::string& ifname) {
  std::string id(trim(container_id));
  for (const std::string& match : {id + line_break + ifname, id}) {
    bool any = false;
    for (const std::string& name : files_matching(match)) {
      if (::unlinkat(dir_.get(), name.c_str(), 0) == 0) any = true;
    }
    if (any) return true;
  }
  return false;
}

}  // namespace ringcri::net::ipam
