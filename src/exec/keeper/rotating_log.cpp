#include "exec/keeper/rotating_log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

namespace ringcri::exec::keeper {

namespace {

std::string numbered(const std::filesystem::path& path, unsigned n) {
  return n == 0 ? path.string() : fmt::format("{}.{}", path.string(), n);
}

// The sink SIGHUP reopens: set before the handler is installed, and never
// released (a signal during exit still finds it). `kept_sink` owns it,
// `sighup_sink` is what the handler reads.
std::shared_ptr<rotating_log_sink>* kept_sink = nullptr;
std::atomic<rotating_log_sink*> sighup_sink{nullptr};

void on_sighup(int) {
  if (rotating_log_sink* sink = sighup_sink.load(std::memory_order_relaxed)) sink->request_reopen();
}

}  // namespace

result<std::shared_ptr<rotating_log_sink>> rotating_log_sink::open(rotating_log_options options) {
  if (options.max_bytes == 0)
    return fail(error_kind::invalid_argument, "a log file's size cap must be above 0");
  std::shared_ptr<rotating_log_sink> sink(new rotating_log_sink(std::move(options)));
  if (auto opened = sink->reopen(); !opened) return tl::unexpected(std::move(opened.error()));
  return sink;
}

result<void> rotating_log_sink::reopen() {
  const std::string path = options_.path.string();
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd) return fail_errno(errno, fmt::format("open {}", path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail_errno(errno, fmt::format("stat {}", path));
  if (options_.as_stdio) {
    // dup2 leaves the copies without O_CLOEXEC: stdout and stderr are
    // what children (a spawner, before it execs a container's process)
    // are meant to inherit.
    if (::dup2(fd.get(), STDOUT_FILENO) < 0 || ::dup2(fd.get(), STDERR_FILENO) < 0)
      return fail_errno(errno, fmt::format("make {} stdout and stderr", path));
  }
  fd_ = std::move(fd);
  size_ = static_cast<std::uint64_t>(st.st_size);
  return {};
}

void rotating_log_sink::make_room(std::uint64_t bytes) {
  const std::string path = options_.path.string();
  struct stat open_file {};
  struct stat named {};
  const bool still_ours = ::fstat(fd_.get(), &open_file) == 0 &&
                          ::stat(path.c_str(), &named) == 0 && open_file.st_dev == named.st_dev &&
                          open_file.st_ino == named.st_ino;
  if (still_ours) {
    // Its real size: a truncation from outside, or writes to stderr, count.
    size_ = static_cast<std::uint64_t>(open_file.st_size);
    if (size_ == 0 || size_ + bytes <= options_.max_bytes) return;
    for (unsigned n = options_.keep; n >= 1; --n) {
      // A missing one (ENOENT) is fine: fewer files than kept so far.
      ::rename(numbered(options_.path, n - 1).c_str(), numbered(options_.path, n).c_str());
    }
    if (options_.keep == 0) ::unlink(path.c_str());
  }
  // Where no new file can be opened (the directory is gone, the disk is
  // full), lines go on to the old one: better late than lost.
  (void)reopen();
}

void rotating_log_sink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  if (reopen_requested_.exchange(false, std::memory_order_relaxed)) (void)reopen();
  if (size_ > 0 && size_ + line.size() > options_.max_bytes) make_room(line.size());
  const char* data = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_.get(), data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the rest of the line is lost; the logger must not fail
    data += n;
    left -= static_cast<std::size_t>(n);
    size_ += static_cast<std::uint64_t>(n);
  }
}

result<void> reopen_on_sighup(std::shared_ptr<rotating_log_sink> sink) {
  if (sink && kept_sink == nullptr) {
    kept_sink = new std::shared_ptr<rotating_log_sink>(std::move(sink));
    sighup_sink.store(kept_sink->get(), std::memory_order_relaxed);
  }
  struct sigaction sa {};
  sa.sa_handler = on_sighup;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(SIGHUP, &sa, nullptr) != 0)
    return fail_errno(errno, "install the SIGHUP handler");
  return {};
}

}  // namespace ringcri::exec::keeper
