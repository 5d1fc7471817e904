#include "cri/store/record_journal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
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

// --- the files ---------------------------------------------------------------

result<std::unique_ptr<record_journal>> record_journal::open(const fs::path& dir, std::size_t capacity,
                                                             apply_fn apply) {
  std::unique_ptr<record_journal> j(new record_journal());
  j->dir_ = dir;
  j->apply_ = std::move(apply);
  for (int i = 0; i < 2; ++i) {
    j->files_[i].path = dir / fmt::format("journal.{}", i);
    if (auto ok = open_file(j->files_[i], std::max(capacity, 2 * journal_header_size)); !ok)
      return tl::unexpected(std::move(ok.error()));
  }
  return j;
}

result<void> record_journal::open_file(file& f, std::size_t capacity) {
  f.fd = ::open(f.path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (f.fd >= 0) {
    auto header = pread_all(f.fd, journal_header_size, f.path);
    if (!header) return tl::unexpected(std::move(header.error()));
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return fail_errno(errno, fmt::format("stat {}", f.path.string()));
    if (auto generation = decode_journal_header(*header); generation && S_ISREG(st.st_mode)) {
      f.generation = *generation;
      f.capacity = static_cast<std::size_t>(st.st_size);
      // Asked for more room than the file has: zeros first, so that a
      // batch never extends the file (which fdatasync would then commit).
      return f.capacity < capacity ? grow(f, capacity) : result<void>{};
    }
    // Not a journal: a header torn while it was being started afresh, so
    // after its entries were applied. Made again below.
    ::close(f.fd);
    f.fd = -1;
  } else if (errno != ENOENT) {
    return fail_errno(errno, fmt::format("open {}", f.path.string()));
  }

  // A fresh file, whole before it takes the journal's name.
  std::string zeros(capacity, '\0');
  std::string header = encode_journal_header(0);
  zeros.replace(0, header.size(), header);
  const fs::path dir = f.path.parent_path();
  unique_fd dir_fd(::open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!dir_fd) return fail_errno(errno, fmt::format("open {}", dir.string()));
  if (auto ok = sys::write_file_atomic(dir_fd.get(), dir.native(), f.path.filename().native(), zeros, 0600,
                                       sys::durability::synced);
      !ok)
    return ok;
  f.fd = ::open(f.path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (f.fd < 0) return fail_errno(errno, fmt::format("open {}", f.path.string()));
  f.capacity = capacity;
  f.generation = 0;
  return {};
}

record_journal::~record_journal() {
  {
    std::unique_lock lock(mu_);
    cleaned_.wait(lock, [this] { return !cleaning_; });
  }
  for (auto& f : files_)
    if (f.fd >= 0) ::close(f.fd);
}

result<std::vector<journal_entry>> record_journal::read_entries(const file& f) {
  auto bytes = pread_all(f.fd, f.capacity, f.path);
  if (!bytes) return tl::unexpected(std::move(bytes.error()));
  auto contents = decode_journal(*bytes);
  if (!contents) return fail(error_kind::internal, fmt::format("{}: header lost", f.path.string()));
  return std::move(contents->entries);
}

result<void> record_journal::start_generation(file& f, std::uint64_t generation) {
  std::string header = encode_journal_header(generation);
  if (auto ok = pwrite_all(f.fd, header, 0, f.path); !ok) return ok;
  if (::fdatasync(f.fd) != 0) return fail_errno(errno, fmt::format("fdatasync {}", f.path.string()));
  f.generation = generation;
  return {};
}

result<void> record_journal::grow(file& f, std::size_t capacity) {
  std::string zeros(capacity - f.capacity, '\0');
  if (auto ok = pwrite_all(f.fd, zeros, f.capacity, f.path); !ok) return ok;
  if (::fsync(f.fd) != 0) return fail_errno(errno, fmt::format("fsync {}", f.path.string()));
  f.capacity = capacity;
  return {};
}

result<std::vector<journal_entry>> record_journal::entries() {
  {
    // A file the pool is applying reads the same before and after, but
    // not while its header changes.
    std::unique_lock lock(mu_);
    cleaned_.wait(lock, [this] { return !cleaning_; });
  }
  // Once applied at open, the journal holds nothing but what went through
  // this object: no batch since and nothing left by a failed checkpoint
  // means nothing to read.
  if (applied_once_ && offset_ == journal_header_size) {
    std::lock_guard lock(mu_);
    if (!other_dirty_) return std::vector<journal_entry>{};
  }
  // The older generation first: the other file's entries are newer.
  const int older = files_[0].generation <= files_[1].generation ? 0 : 1;
  auto out = read_entries(files_[older]);
  if (!out) return out;
  auto newer = read_entries(files_[1 - older]);
  if (!newer) return newer;
  for (auto& e : *newer) out->push_back(std::move(e));
  return out;
}

namespace {

void log_checkpoint(std::size_t entries, std::uint64_t generation, std::chrono::steady_clock::time_point started) {
  spdlog::info("msg=\"record journal checkpointed\" entries={} generation={} took_us={}", entries, generation,
               std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started)
                   .count());
}

}  // namespace

result<void> record_journal::checkpoint() {
  const auto started = std::chrono::steady_clock::now();
  auto written = entries();
  if (!written) return tl::unexpected(std::move(written.error()));
  if (!written->empty()) {
    if (auto ok = apply_(*written); !ok) return ok;
    crash_point(point("record_journal.before_new_generation"));
  }
  // Both afresh, each with a generation above every earlier one; the
  // first is written to next.
  const std::uint64_t top = std::max(files_[0].generation, files_[1].generation);
  for (int i = 0; i < 2; ++i)
    if (auto ok = start_generation(files_[i], top + 1 + static_cast<std::uint64_t>(i)); !ok) return ok;
  active_ = 0;
  offset_ = journal_header_size;
  applied_once_ = true;
  {
    std::lock_guard lock(mu_);
    other_dirty_ = false;
  }
  if (!written->empty()) {
    checkpoints_.fetch_add(1);
    log_checkpoint(written->size(), files_[1].generation, started);
  }
  return {};
}

result<void> record_journal::clean_now(int index) {
  const auto started = std::chrono::steady_clock::now();
  file& f = files_[index];
  auto written = read_entries(f);
  if (!written) return tl::unexpected(std::move(written.error()));
  if (!written->empty()) {
    if (auto ok = apply_(*written); !ok) return ok;
    crash_point(point("record_journal.before_new_generation"));
  }
  // Above the active file's: written to after it.
  if (auto ok = start_generation(f, files_[1 - index].generation + 1); !ok) return ok;
  checkpoints_.fetch_add(1);
  log_checkpoint(written->size(), f.generation, started);
  return {};
}

void record_journal::clean(int index) {
  auto cleaned = clean_now(index);
  waiter* next = nullptr;
  {
    std::lock_guard lock(mu_);
    cleaning_ = false;
    other_dirty_ = !cleaned;
    if (!cleaned)
      spdlog::error("msg=\"record journal not checkpointed (tried again when the other file fills)\" error=\"{}\"",
                    cleaned.error().message());
    next = std::exchange(switch_waiter_, nullptr);
    // Under the lock: once it is released, a destructor may run.
    cleaned_.notify_all();
  }
  if (next) wake(*next);
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

class record_journal::clean_awaiter {
 public:
  clean_awaiter(record_journal& j, waiter& self) : j_(j), self_(self) {}
  bool await_ready() const noexcept { return false; }
  // Suspends while the pool applies the other file.
  bool await_suspend(std::coroutine_handle<> h) {
    std::lock_guard lock(j_.mu_);
    if (!j_.cleaning_) return false;
    self_.home = reactor::reactor::current();
    self_.handle = h;
    j_.switch_waiter_ = &self_;
    return true;
  }
  void await_resume() const noexcept {}

 private:
  record_journal& j_;
  waiter& self_;
};

reactor::task<result<void>> record_journal::switch_files(std::size_t batch_size) {
  waiter self;
  const auto asked = std::chrono::steady_clock::now();
  co_await clean_awaiter(*this, self);
  if (self.handle) {
    // Suspended: the other file was still being applied. Puts waited.
    spdlog::warn("msg=\"record journal full while the other file is still applied: writes waited\" waited_us={}",
                 std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - asked)
                     .count());
  }
  const int other = 1 - active_;
  bool dirty = false;
  {
    std::lock_guard lock(mu_);
    dirty = other_dirty_;
  }
  if (dirty) {
    // Its checkpoint failed before: again, now, before it is written to.
    auto cleaned = co_await reactor::run_blocking([this, other] { return clean_now(other); });
    if (!cleaned) co_return cleaned;
    std::lock_guard lock(mu_);
    other_dirty_ = false;
  }
  if (journal_header_size + batch_size > files_[other].capacity) {
    // One batch larger than a whole file (a huge record): the file grows
    // to hold it, and stays that size.
    auto grown = co_await reactor::run_blocking(
        [this, other, batch_size] { return grow(files_[other], journal_header_size + batch_size); });
    if (!grown) co_return grown;
  }
  const int full = active_;
  active_ = other;
  offset_ = journal_header_size;
  {
    std::lock_guard lock(mu_);
    cleaning_ = true;
  }
  reactor::submit_blocking([this, full] { clean(full); });
  co_return result<void>{};
}

reactor::task<result<void>> record_journal::write_batch(std::string payload, std::uint32_t count) {
  std::string batch = encode_journal_batch(files_[active_].generation, count, payload);
  if (offset_ + batch.size() > files_[active_].capacity) {
    auto switched = co_await switch_files(batch.size());
    if (!switched)
      co_return tl::unexpected(std::move(switched.error()).context("checkpoint the record journal"));
    batch = encode_journal_batch(files_[active_].generation, count, payload);  // of the new file
  }
  const file& f = files_[active_];
  auto bytes = std::as_bytes(std::span(batch));
  std::size_t at = 0;
  while (at < bytes.size()) {
    auto n = co_await io::write(f.fd, bytes.subspan(at), offset_ + at);
    if (!n) co_return fail_errno(n.error().value(), fmt::format("write {}", f.path.string()));
    if (*n == 0) co_return fail_errno(EIO, fmt::format("write {}", f.path.string()));
    at += static_cast<std::size_t>(*n);
  }
  crash_point(point("record_journal.before_sync"));
  auto synced = co_await io::fsync(f.fd, true);
  if (!synced) co_return fail_errno(synced.error().value(), fmt::format("fdatasync {}", f.path.string()));
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
