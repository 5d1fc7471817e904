#pragma once
// record_journal: the record store's write-ahead log (bytes in
// journal_format.hpp). A put or a remove is one entry, durable once its
// batch is.
//
// Group commit: entries that arrive while a batch is being made durable
// wait, and the first of them then writes all of them as the next batch:
// one write and one fdatasync however many RPCs asked. The file is made
// at its full size once (zeros, fsynced), so a batch's fdatasync flushes
// the data blocks only, with no file-system metadata to commit.
//
// Checkpoint: when a batch does not fit in what is left of the file, its
// writer first hands every entry written so far to the store's apply
// function (which makes them durable in the record files), then writes a
// header with the next generation, which makes those batches stale. A
// crash at any moment of that leaves the old generation whole (applied
// again at the next open) or the new one empty. The store also
// checkpoints at open() and at close(), so the files hold every record
// while the daemon is not running.
//
// Any reactor thread may append at once; a waiter is resumed on its own
// reactor. The mutex covers the bookkeeping only, never I/O.

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "cri/store/journal_format.hpp"
#include "reactor/reactor.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri::store {

class record_journal {
 public:
  // Makes every entry of the journal durable elsewhere (blocking).
  using apply_fn = std::function<result<void>(const std::vector<journal_entry>&)>;

  // Opens the journal file `path`, making it (`capacity` bytes of zeros
  // and a header) when missing or when it is not a journal. Blocking; call
  // checkpoint() before the first append.
  static result<std::unique_ptr<record_journal>> open(const std::filesystem::path& path,
                                                       std::size_t capacity, apply_fn apply);

  record_journal(const record_journal&) = delete;
  record_journal& operator=(const record_journal&) = delete;
  ~record_journal();

  // Applies the entries of the current generation and starts the next.
  // Blocking; no append may be running.
  result<void> checkpoint();

  // The entries of the current generation, in order. Blocking.
  result<std::vector<journal_entry>> entries() const;

  // Makes the entry durable, in a batch with those that came meanwhile.
  // The views must outlive the task: await it at once.
  reactor::task<result<void>> append(journal_op op, std::string_view kind, std::string_view id,
                                     std::string_view bytes);

  // Batches written since open (for tests).
  std::uint64_t batches_written() const { return batches_.load(); }

 private:
  struct waiter {
    reactor::reactor* home = nullptr;
    std::coroutine_handle<> handle;
    bool lead = false;
    std::optional<result<void>> outcome;
  };
  class enter_awaiter;

  record_journal() = default;
  // The steps of one batch, by its leader: write, fdatasync, answer.
  reactor::task<void> lead(waiter& self);
  reactor::task<result<void>> write_batch(std::string payload, std::uint32_t count);
  // checkpoint(), then the file grown if a batch of `size` bytes still
  // does not fit.
  result<void> make_room(std::size_t size);
  result<void> write_zeros(std::size_t from, std::size_t to);
  static void wake(waiter& w);

  std::filesystem::path path_;
  int fd_ = -1;
  apply_fn apply_;
  // Touched by the leader of the moment only (or by checkpoint(), which
  // runs with no leader, or inside one).
  std::size_t capacity_ = 0;
  std::size_t offset_ = journal_header_size;
  std::uint64_t generation_ = 0;

  std::mutex mu_;
  bool committing_ = false;        // a leader is writing a batch
  std::string pending_payload_;    // the entries of the next batch
  std::uint32_t pending_count_ = 0;
  std::vector<waiter*> pending_waiters_;
  std::atomic<std::uint64_t> batches_{0};
};

}  // namespace ringcri::cri::store
