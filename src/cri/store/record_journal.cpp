#include "cri/store/record_journal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <span>
#include <utility>

#include "base/crash_point.hpp"
#include "base/sys/atomic_file.hpp"
#include "base/unique_fd.hpp"
#include "reactor/blocking.hpp"
#include "reactor/ops.hpp"

namespace ringcri::cri::store {

namespace io = ringcri::reactor;
namespace fs = std::filesystem;

namespace {

result<void> pwrite_all(int fd, std::string_view bytes, std::size_t at, const fs::path& path) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, fmt::format("write {}", path.string()));
    }
    if (n == 0) return fail_errno(EIO, fmt::format("write {}", path.string()));
    bytes.remove_prefix(static_cast<std::size_t>(n));
    at += static_cast<std::size_t>(n);
  }
  return {};
}

result<std::string> pread_all(int fd, std::size_t size, const fs::path& path) {
  std::string out(size, '\0');
  std::size_t have = 0;
  while (have < size) {
    ssize_t n = ::pread(fd, out.data() + have, size - have, static_cast<off_t>(have));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, fmt::format("read {}", path.string()));
    }
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  out.resize(have);
  return out;
}

}  // namespace

// --- the file ----------------------------------------------------------------

result<std::unique_ptr<record_journal>> record_journal::open(const fs::path& path,
                                                             std::size_t capacity, apply_fn apply) {
  std::unique_ptr<record_journal> j(new record_journal());
  j->path_ = path;
  j->apply_ = std::move(apply);
  j->capacity_ = std::max(capacity, 2 * journal_header_size);

  j->fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (j->fd_ >= 0) {
    char header[journal_header_size];
    auto got = pread_all(j->fd_, sizeof header, path);
    if (!got) return tl::unexpected(std::move(got.error()));
    struct stat st {};
    if (::fstat(j->fd_, &st) != 0) return fail_errno(errno, fmt::format("stat {}", path.string()));
    if (auto generation = decode_journal_header(*got); generation && S_ISREG(st.st_mode)) {
      j->generation_ = *generation;
      auto size = static_cast<std::size_t>(st.st_size);
      // Asked for more room than the file has: zeros first, so that a
      // batch never extends the file (which fdatasync would then commit).
      if (size < j->capacity_) {
        if (auto ok = j->write_zeros(size, j->capacity_); !ok) return tl::unexpected(std::move(ok.error()));
      }
      j->capacity_ = std::max(j->capacity_, size);
      return j;
    }
    // Not a journal (a header torn before any batch was ever written to
    // it): made again below.
    ::close(j->fd_);
    j->fd_ = -1;
  } else if (errno != ENOENT) {
    return fail_errno(errno, fmt::format("open {}", path.string()));
  }

  // A fresh file, whole before it takes the journal's name.
  std::string zeros(j->capacity_, '\0');
  std::string header = encode_journal_header(1);
  zeros.replace(0, header.size(), header);
  unique_fd dir(::open(path.parent_path().c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!dir) return fail_errno(errno, fmt::format("open {}", path.parent_path().string()));
  if (auto ok = sys::write_file_atomic(dir.get(), path.parent_path().native(), path.filename().native(),
                                       zeros, 0600, sys::durability::synced);
      !ok)
    return tl::unexpected(std::move(ok.error()));
  j->fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (j->fd_ < 0) return fail_errno(errno, fmt::format("open {}", path.string()));
  j->generation_ = 1;
  return j;
}

record_journal::~record_journal() {
  if (fd_ >= 0) ::close(fd_);
}

result<std::vector<journal_entry>> record_journal::entries() const {
  auto file = pread_all(fd_, capacity_, path_);
  if (!file) return tl::unexpected(std::move(file.error()));
  auto contents = decode_journal(*file);
  if (!contents) return fail(error_kind::internal, fmt::format("{}: header lost", path_.string()));
  return std::move(contents->entries);
}

result<void> record_journal::checkpoint() {
  auto written = entries();
  if (!written) return tl::unexpected(std::move(written.error()));
  if (!written->empty()) {
    if (auto ok = apply_(*written); !ok) return ok;
    crash_point(point("record_journal.before_new_generation"));
  }
  // The next generation: every batch before is stale from here on.
  std::string header = encode_journal_header(generation_ + 1);
  if (auto ok = pwrite_all(fd_, header, 0, path_); !ok) return ok;
  if (::fdatasync(fd_) != 0) return fail_errno(errno, fmt::format("fdatasync {}", path_.string()));
  ++generation_;
  offset_ = journal_header_size;
  return {};
}

result<void> record_journal::write_zeros(std::size_t from, std::size_t to) {
  std::string zeros(to - from, '\0');
  if (auto ok = pwrite_all(fd_, zeros, from, path_); !ok) return ok;
  if (::fsync(fd_) != 0) return fail_errno(errno, fmt::format("fsync {}", path_.string()));
  return {};
}

result<void> record_journal::make_room(std::size_t size) {
  if (auto ok = checkpoint(); !ok) return ok;
  if (journal_header_size + size <= capacity_) return {};
  // One batch larger than the whole file (a huge record): the file grows
  // to hold it, and stays that size.
  std::size_t grown = journal_header_size + size;
  if (auto ok = write_zeros(capacity_, grown); !ok) return ok;
  capacity_ = grown;
  return {};
}

// --- group commit ------------------------------------------------------------

class record_journal::enter_awaiter {
 public:
  enter_awaiter(record_journal& j, waiter& self, journal_op op, std::string_view kind,
                std::string_view id, std::string_view bytes)
      : j_(j), self_(self), op_(op), kind_(kind), id_(id), bytes_(bytes) {}
  bool await_ready() const noexcept { return false; }
  // Queues the entry; suspends unless the caller is to write the batch.
  bool await_suspend(std::coroutine_handle<> h) {
    std::lock_guard lock(j_.mu_);
    append_journal_entry(j_.pending_payload_, op_, kind_, id_, bytes_);
    ++j_.pending_count_;
    self_.home = reactor::reactor::current();
    self_.handle = h;
    j_.pending_waiters_.push_back(&self_);
    if (j_.committing_) return true;
    j_.committing_ = true;
    self_.lead = true;
    return false;
  }
  void await_resume() const noexcept {}

 private:
  record_journal& j_;
  waiter& self_;
  journal_op op_;
  std::string_view kind_, id_, bytes_;
};

reactor::task<result<void>> record_journal::append(journal_op op, std::string_view kind,
                                                   std::string_view id, std::string_view bytes) {
  if (!reactor::reactor::current())
    co_return fail(error_kind::internal, "journal append: not on a reactor thread");
  waiter self;
  co_await enter_awaiter(*this, self, op, kind, id, bytes);
  // Woken either answered, or to lead the batch it is in.
  if (self.lead) co_await lead(self);
  co_return std::move(*self.outcome);
}

reactor::task<void> record_journal::lead(waiter& self) {
  std::string payload;
  std::uint32_t count = 0;
  std::vector<waiter*> batch;
  {
    std::lock_guard lock(mu_);
    payload.swap(pending_payload_);
    count = std::exchange(pending_count_, 0);
    batch.swap(pending_waiters_);
  }
  result<void> written = co_await write_batch(std::move(payload), count);

  waiter* next = nullptr;
  {
    std::lock_guard lock(mu_);
    if (pending_waiters_.empty()) {
      committing_ = false;
    } else {
      // The first of those that came meanwhile writes the next batch.
      next = pending_waiters_.front();
      next->lead = true;
    }
  }
  for (waiter* w : batch) {
    w->outcome = written;
    if (w != &self) wake(*w);
  }
  if (next) wake(*next);
}

reactor::task<result<void>> record_journal::write_batch(std::string payload, std::uint32_t count) {
  std::string batch = encode_journal_batch(generation_, count, payload);
  if (offset_ + batch.size() > capacity_) {
    auto room = co_await reactor::run_blocking([this, size = batch.size()] { return make_room(size); });
    if (!room)
      co_return tl::unexpected(std::move(room.error()).context("checkpoint the record journal"));
    batch = encode_journal_batch(generation_, count, payload);  // of the new generation
  }
  auto bytes = std::as_bytes(std::span(batch));
  std::size_t at = 0;
  while (at < bytes.size()) {
    auto n = co_await io::write(fd_, bytes.subspan(at), offset_ + at);
    if (!n) co_return fail_errno(n.error().value(), fmt::format("write {}", path_.string()));
    if (*n == 0) co_return fail_errno(EIO, fmt::format("write {}", path_.string()));
    at += static_cast<std::size_t>(*n);
  }
  crash_point(point("record_journal.before_sync"));
  auto synced = co_await io::fsync(fd_, true);
  if (!synced) co_return fail_errno(synced.error().value(), fmt::format("fdatasync {}", path_.string()));
  crash_point(point("record_journal.after_sync"));
  // A batch that failed is not counted: the next one is written over it.
  offset_ += batch.size();
  batches_.fetch_add(1);
  co_return result<void>{};
}

void record_journal::wake(waiter& w) {
  // Read what we need before resuming: once resumed, `w` is gone.
  w.home->resume(w.handle);
}

}  // namespace ringcri::cri::store
