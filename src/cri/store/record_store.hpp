#pragma once
// record_store: the daemon's durable records (pods, containers, images...),
// one file per record under a directory, one sub-directory per kind, and
// a journal in front of them:
//
//   <dir>/journal.0   <dir>/journal.1   <dir>/pods/<id>   <dir>/containers/<id> ...
//
// A put or a remove is durable once its entry is in the journal
// (record_journal.hpp: concurrent calls share one fdatasync). The record
// files take the journal's entries at checkpoints: when one of its two
// files is full (on the blocking pool, while puts go to the other), at
// open() and at checkpoint(). Each file is replaced whole (temp file,
// fsync, rename; the directory fsynced once per checkpoint), so after a
// crash at any moment a record is its old bytes or its new ones, never a
// mix, and the journal brings it up to date. Temp files
// (".<id>.tmp-<random hex>") were never acknowledged: open() deletes them.
//
// put() and remove() run on the calling reactor thread, every step through
// the ring; any reactor thread may call them at once. Writes of one key are
// ordered (the later call wins) and coalesced (see key_sequencer.hpp).
// open(), load() and checkpoint() block: they are for start-up and shutdown.
//
// One store per directory: open() takes an exclusive flock on it.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "cri/store/key_sequencer.hpp"
#include "cri/store/record_journal.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri::store {

struct record {
  std::string id;
  std::string bytes;
};

class record_store {
 public:
  // Opens the store at `dir`, creating it and one sub-directory per name of
  // `kinds` as needed, and deletes temp files left by a crash. Blocking.
  // Each journal file is
  // `journal_bytes` long (a checkpoint each time one fills); what a crash
  // left in them is applied before open() returns.
  static result<std::unique_ptr<record_store>> open(const std::filesystem::path& dir,
                                                    const std::vector<std::string>& kinds,
                                                    std::size_t journal_bytes = default_journal_bytes);

  static constexpr std::size_t default_journal_bytes = 1 << 20;

  record_store(const record_store&) = delete;
  record_store& operator=(const record_store&) = delete;
  // Closes the directories. No put or remove may be running.
  ~record_store();

  // Every record in its file, the journal empty. Blocking; no put or
  // remove may be running. For shutdown, and tidiness only: a store that
  // is not checkpointed loses nothing.
  result<void> checkpoint();

  // Every record of `kind`, sorted by id: the files, brought up to date by
  // the journal. Blocking; for start-up (a put running at once may or may
  // not be seen).
  result<std::vector<record>> load(std::string_view kind) const;

  // Makes `bytes` the record `kind`/`id`, durably, before it returns
  // success. Ids are non-empty, at most 255 bytes, with no '/' or NUL and
  // no leading '.'; others fail with invalid_argument, as does an unknown
  // kind. Arguments are taken by value: the task is lazy and owns them.
  reactor::task<result<void>> put(std::string kind, std::string id, std::string bytes);

  // Deletes the record `kind`/`id`, durably; a missing record is success.
  // Ordered with puts of the same key.
  reactor::task<result<void>> remove(std::string kind, std::string id);

  const std::filesystem::path& path() const noexcept { return dir_; }

  // Keys with a write in flight (for tests).
  std::size_t busy_keys() const { return sequencer_.busy_keys(); }
  // Journal batches written and checkpoints done since open (for tests).
  std::uint64_t journal_batches() const { return journal_->batches_written(); }
  std::uint64_t journal_checkpoints() const { return journal_->checkpoints_done(); }

 private:
  struct kind_dir {
    std::string name;
    std::filesystem::path path;
    int fd = -1;
  };

  record_store() = default;
  result<void> init(const std::filesystem::path& dir, const std::vector<std::string>& kinds,
                    std::size_t journal_bytes);
  // The journal's entries into the record files, durably (blocking).
  result<void> apply(const std::vector<journal_entry>& entries);

  result<const kind_dir*> find_kind(std::string_view kind) const;

  std::filesystem::path dir_;
  int dir_fd_ = -1;  // holds the flock
  std::vector<kind_dir> kinds_;
  key_sequencer sequencer_;
  std::unique_ptr<record_journal> journal_;
};

// Checks a record id (see record_store::put): invalid_argument if bad.
result<void> check_record_id(std::string_view id);

// The records of `kind` in the store at `dir`, as load() would give them,
// for a reader beside the daemon that holds the store (`ringcri inspect`):
// no lock is taken and nothing is written (no directory made, no temp
// file deleted, no checkpoint). A store or kind that does not exist has
// no records. A checkpoint that ends while this reads (a journal file's
// header changes) makes it read again; what the daemon appends meanwhile
// may or may not be seen.
result<std::vector<record>> read_records_unlocked(const std::filesystem::path& dir, std::string_view kind);

}  // namespace ringcri::cri::store
