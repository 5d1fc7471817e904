#pragma once
// record_journal: the record store's write-ahead log (bytes in
// journal_format.hpp), two files used in turn: journal.0 and journal.1. A
// put or a remove is one entry, durable once its batch is.
//
// Group commit: entries that arrive while a batch is being made durable
// wait, and the first of them then writes all of them as the next batch:
// one write and one fdatasync however many RPCs asked. The files are made
// at their full size once (zeros, fsynced), so a batch's fdatasync flushes
// the data blocks only, with no file-system metadata to commit.
//
// Checkpoints: when a batch does not fit in what is left of the active
// file, its writer switches to the other file (already clean, its header
// of the next generation) and hands the full one to the blocking pool,
// which gives its entries to the store's apply function (which makes them
// durable in the record files) and then writes it a header of a later
// generation, which makes its batches stale. Puts go on meanwhile; only a
// file that fills while the other is still being applied waits. After a
// crash at any moment, open() applies the entries of both files, the
// older generation first. The store also checkpoints at open() and at its
// close, so the files hold every record while the daemon is not running.
//
// Any reactor thread may append at once; a waiter is resumed on its own
// reactor. The mutex covers the bookkeeping only, never I/O.

#include <atomic>
#include <condition_variable>
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

  // Opens (or makes) journal.0 and journal.1 in `dir`, each `capacity`
  // bytes: zeros and a header, when missing or not a journal. Blocking;
  // call checkpoint() before the first append.
  static result<std::unique_ptr<record_journal>> open(const std::filesystem::path& dir,
                                                       std::size_t capacity, apply_fn apply);

  record_journal(const record_journal&) = delete;
  record_journal& operator=(const record_journal&) = delete;
  // Waits for a checkpoint the pool is running.
  ~record_journal();

  // Applies the entries of both files and starts them afresh. Blocking; no
  // append may be running (one the pool is applying is waited for).
  result<void> checkpoint();

  // The entries not yet applied, in the order they were written. Blocking
  // (a checkpoint the pool is running is waited for).
  result<std::vector<journal_entry>> entries();

  // Makes the entry durable, in a batch with those that came meanwhile.
  // The views must outlive the task: await it at once.
  reactor::task<result<void>> append(journal_op op, std::string_view kind, std::string_view id,
                                     std::string_view bytes);

  // Batches written and checkpoints done since open (for tests).
  std::uint64_t batches_written() const { return batches_.load(); }
  std::uint64_t checkpoints_done() const { return checkpoints_.load(); }

 private:
  struct file {
    std::filesystem::path path;
    int fd = -1;
    std::size_t capacity = 0;
    std::uint64_t generation = 0;
  };
  struct waiter {
    reactor::reactor* home = nullptr;
    std::coroutine_handle<> handle;
    bool lead = false;
    std::optional<result<void>> outcome;
  };
  class enter_awaiter;
  class clean_awaiter;

  record_journal() = default;
  static result<void> open_file(file& f, std::size_t capacity);
  // The entries of `f`'s current generation.
  static result<std::vector<journal_entry>> read_entries(const file& f);
  // A header of `generation` on `f`: its batches are stale from here on.
  static result<void> start_generation(file& f, std::uint64_t generation);
  static result<void> grow(file& f, std::size_t capacity);

  // The steps of one batch, by its leader: write, fdatasync, answer.
  reactor::task<void> lead(waiter& self);
  reactor::task<result<void>> write_batch(std::string payload, std::uint32_t count);
  // Switches to the other file, once it is clean, and hands the full one
  // to the pool.
  reactor::task<result<void>> switch_files(std::size_t batch_size);
  // On the pool: applies file `index` and starts it afresh, then wakes a
  // writer waiting to switch.
  void clean(int index);
  result<void> clean_now(int index);
  static void wake(waiter& w);

  std::filesystem::path dir_;
  apply_fn apply_;
  file files_[2];
  // Touched by the leader of the moment only (or by checkpoint(), which
  // runs with no leader).
  int active_ = 0;
  std::size_t offset_ = journal_header_size;
  // Set by the first checkpoint: from then on the files hold only what
  // this object wrote.
  bool applied_once_ = false;

  std::mutex mu_;
  bool committing_ = false;        // a leader is writing a batch
  std::string pending_payload_;    // the entries of the next batch
  std::uint32_t pending_count_ = 0;
  std::vector<waiter*> pending_waiters_;
  // The inactive file: being applied on the pool, or holding entries a
  // failed checkpoint left. A writer that must switch waits in
  // switch_waiter_.
  bool cleaning_ = false;
  bool other_dirty_ = false;
  std::optional<error> clean_error_;
  waiter* switch_waiter_ = nullptr;
  std::condition_variable cleaned_;

  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> checkpoints_{0};
};

}  // namespace ringcri::cri::store
