// Control file reads and writes (see cgroup_files.hpp).

#include "exec/cgroups/cgroup_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

#include "base/unique_fd.hpp"

namespace ringcri::exec::cgroups::detail {

result<std::string> read_control(const std::string& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("read {}", path));
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, fmt::format("read {}", path));
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

result<void> write_control(const std::string& path, std::string_view value) {
  // The message shows the value without the newline some callers copy
  // from another control file.
  auto what = [&] {
    std::string_view shown = value;
    while (!shown.empty() && shown.back() == '\n') shown.remove_suffix(1);
    return fmt::format("write \"{}\" = \"{}\"", path, shown);
  };
  // O_TRUNC as runc opens them: cgroupfs ignores it, and a plain file
  // standing in for a control file in tests ends up holding just `value`.
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) return fail_errno(errno, what());
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno(errno, what());
  return {};
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = text.find_first_not_of(" \t\n", i);
    if (start == std::string_view::npos) break;
    size_t end = text.find_first_of(" \t\n", start);
    if (end == std::string_view::npos) end = text.size();
    out.emplace_back(text.substr(start, end - start));
    i = end;
  }
  return out;
}

std::string_view trim(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\n");
  if (start == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\n");
  return text.substr(start, end - start + 1);
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  text = trim(text);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ')
      return parse_number(line.substr(key.size() + 1));
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return std::nullopt;
}

}  // namespace ringcri::exec::cgroups::detail
