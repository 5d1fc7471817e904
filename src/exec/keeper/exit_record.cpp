// Exit records: written by the keeper on its reactor, read by the daemon.

#include "exec/keeper/exit_record.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <system_error>

#include "exec/keeper/protocol.hpp"
#include "reactor/atomic_file.hpp"
#include "reactor/ops.hpp"

namespace ringcri::exec::keeper {

namespace io = ringcri::reactor;
namespace fs = std::filesystem;

std::string exit_record_bytes(const exit_status& status) {
  nlohmann::json j{{"exit_code", status.exit_code},
                   {"signal", status.signal},
                   {"finished_at", status.finished_at}};
  return j.dump() + "\n";
}

reactor::task<result<void>> write_exit_record(std::string path, exit_status status) {
  fs::path target(path);
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) co_return fail_errno(ec.value(), fmt::format("create {}", dir.string()));

  const std::string dir_path = dir.string();
  const std::string name = target.filename().string();
  const std::string bytes = exit_record_bytes(status);
  auto dir_fd = co_await io::openat(AT_FDCWD, dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (!dir_fd) co_return fail_errno(dir_fd.error().value(), fmt::format("open {}", dir_path));
  unique_fd dir_owner(*dir_fd);
  // A temp file a crash leaves goes with the container's directory.
  co_return co_await io::write_file_atomic(dir_owner.get(), dir_path, name, bytes, 0640);
}

result<exit_status> read_exit_record(const std::filesystem::path& exit_path) {
  int fd = ::open(exit_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, fmt::format("open exit record {}", exit_path.string()));
  unique_fd owner(fd);
  std::string bytes;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, fmt::format("read exit record {}", exit_path.string()));
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<std::size_t>(n));
  }
  auto j = protocol::decode(bytes);
  if (!j) return tl::unexpected(std::move(j.error()).context(exit_path.string()));
  auto status = protocol::exit_status_from_json(*j);
  if (!status) return tl::unexpected(std::move(status.error()).context(exit_path.string()));
  return status;
}

}  // namespace ringcri::exec::keeper
