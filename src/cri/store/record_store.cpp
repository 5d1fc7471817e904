#include "cri/store/record_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <span>
#include <utility>

#include "base/sys/atomic_file.hpp"
#include "base/sys/list_dir.hpp"
#include "base/sys/make_dirs.hpp"
#include "base/unique_fd.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::cri::store {

namespace fs = std::filesystem;

namespace {

tl::unexpected<error> fail_at(std::string_view step, const fs::path& path, int sys_errno) {
  return fail_errno(sys_errno, fmt::format("{} {}", step, path.string()));
}

// The entries of a kind's directory, read through an fd of their own so
// that `dir_fd`'s offset is left alone.
result<std::vector<sys::dir_entry>> list_kind_dir(int dir_fd, const fs::path& path) {
  auto entries = sys::list_dir(dir_fd);
  if (!entries) return tl::unexpected(std::move(entries.error()).context(path.string()));
  return entries;
}

result<std::string> read_whole(int fd, std::size_t size_hint, const fs::path& path) {
  std::string out;
  out.resize(size_hint);
  std::size_t have = 0;
  for (;;) {
    if (have == out.size()) out.resize(out.size() + 4096);  // grew since fstat
    ssize_t n = ::pread(fd, out.data() + have, out.size() - have, static_cast<off_t>(have));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_at("read", path, errno);
    }
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  out.resize(have);
  return out;
}

// Every record file in a kind's directory, sorted by id.
result<std::vector<record>> read_records(int dir_fd, const fs::path& dir) {
  auto entries = list_kind_dir(dir_fd, dir);
  if (!entries) return tl::unexpected(std::move(entries.error()));
  std::vector<record> out;
  out.reserve(entries->size());
  for (auto& entry : *entries) {
    std::string& name = entry.name;
    if (name.starts_with('.')) continue;  // temps, and nothing of ours
    fs::path path = dir / name;
    unique_fd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
      if (errno == ELOOP) continue;  // a symlink is not a record
      return fail_at("open", path, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_at("stat", path, errno);
    if (!S_ISREG(st.st_mode)) continue;
    auto bytes = read_whole(fd.get(), static_cast<std::size_t>(st.st_size), path);
    if (!bytes) return tl::unexpected(std::move(bytes.error()));
    out.push_back(record{std::move(name), std::move(*bytes)});
  }
  std::sort(out.begin(), out.end(), [](const record& a, const record& b) { return a.id < b.id; });
  return out;
}

// Temp files were never acknowledged to anyone: drop them.
result<void> remove_temp_files(int dir_fd, const fs::path& dir) {
  auto entries = list_kind_dir(dir_fd, dir);
  if (!entries) return tl::unexpected(std::move(entries.error()));
  bool removed = false;
  for (const auto& entry : *entries) {
    const std::string& n = entry.name;
    if (!sys::is_atomic_temp_name(n)) continue;
    if (::unlinkat(dir_fd, n.c_str(), 0) != 0 && errno != ENOENT) return fail_at("unlink", dir / n, errno);
    removed = true;
  }
  if (removed && ::fsync(dir_fd) != 0) return fail_at("fsync", dir, errno);
  return {};
}

std::string shown(std::string_view s) {
  constexpr std::size_t max = 80;
  if (s.size() <= max) return std::string(s);
  return fmt::format("{}...", s.substr(0, max));
}

// Kinds and ids share the rules of one file name that cannot be a temp:
// what is wrong with `name`, or empty if nothing.
std::string_view name_problem(std::string_view name) {
  if (name.empty()) return "empty";
  if (name.size() > NAME_MAX) return "longer than 255 bytes";
  if (name.find('/') != std::string_view::npos) return "contains '/'";
  if (name.find('\0') != std::string_view::npos) return "contains a NUL byte";
  if (name.front() == '.') return "starts with '.'";
  return {};
}

result<void> check_name(std::string_view what, std::string_view name) {
  auto why = name_problem(name);
  if (why.empty()) return {};
  return fail(error_kind::invalid_argument,
              fmt::format("invalid {} \"{}\": {}", what, shown(name), why));
}

// `records` (the files of `kind`, sorted by id) brought up to date by the
// journal's `entries` (in the order they were written): the last entry of
// an id is its state.
std::vector<record> up_to_date(std::vector<record> records,
                               const std::vector<journal_entry>& entries, std::string_view kind) {
  std::map<std::string, const journal_entry*> last;
  for (const auto& e : entries)
    if (e.kind == kind) last[e.id] = &e;
  if (last.empty()) return records;
  std::vector<record> merged;
  for (auto& r : records)
    if (!last.contains(r.id)) merged.push_back(std::move(r));
  for (const auto& [id, e] : last)
    if (e->op == journal_op::put) merged.push_back(record{id, e->bytes});
  std::sort(merged.begin(), merged.end(),
            [](const record& a, const record& b) { return a.id < b.id; });
  return merged;
}

// record_journal's two files.
fs::path journal_file(const fs::path& dir, int index) {
  return dir / fmt::format("journal.{}", index);
}

// The generation in a journal file's header; nullopt when the file is
// missing or its header is not whole (torn after its entries were applied).
result<std::optional<std::uint64_t>> journal_generation(const fs::path& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) return std::optional<std::uint64_t>{};
    return fail_at("open", path, errno);
  }
  std::string header(journal_header_size, '\0');
  ssize_t n;
  while ((n = ::pread(fd.get(), header.data(), header.size(), 0)) < 0 && errno == EINTR) {
  }
  if (n < 0) return fail_at("read", path, errno);
  header.resize(static_cast<std::size_t>(n));
  return decode_journal_header(header);
}

struct journal_read {
  std::optional<std::uint64_t> generations[2];
  std::vector<journal_entry> entries;  // the older generation's first
};

// Both journal files' entries, read-only.
result<journal_read> read_journal_files(const fs::path& dir) {
  journal_read out;
  std::vector<journal_contents> files;
  for (int i = 0; i < 2; ++i) {
    const fs::path path = journal_file(dir, i);
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
      if (errno == ENOENT) continue;
      return fail_at("open", path, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_at("stat", path, errno);
    auto bytes = read_whole(fd.get(), static_cast<std::size_t>(st.st_size), path);
    if (!bytes) return tl::unexpected(std::move(bytes.error()));
    auto contents = decode_journal(*bytes);
    if (!contents) continue;
    out.generations[i] = contents->generation;
    files.push_back(std::move(*contents));
  }
  std::sort(files.begin(), files.end(), [](const journal_contents& a, const journal_contents& b) {
    return a.generation < b.generation;
  });
  for (auto& f : files)
    for (auto& e : f.entries) out.entries.push_back(std::move(e));
  return out;
}

}  // namespace

result<void> check_record_id(std::string_view id) { return check_name("record id", id); }

result<std::vector<record>> read_records_unlocked(const fs::path& dir, std::string_view kind) {
  auto what = [&] { return fmt::format("read records {} of {}", kind, dir.string()); };
  if (auto ok = check_name("record kind", kind); !ok)
    return tl::unexpected(std::move(ok.error()).context(what()));
  // A checkpoint applies a journal file to the record files, then starts
  // the file afresh with a later generation: a read that saw the entries
  // but not the files' new bytes (or the other way round) is one during
  // which a header changed.
  constexpr int attempts = 8;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    auto journal = read_journal_files(dir);
    if (!journal) return tl::unexpected(std::move(journal.error()).context(what()));
    std::vector<record> files;
    const fs::path kind_path = dir / kind;
    unique_fd kind_fd(::open(kind_path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (kind_fd) {
      auto read = read_records(kind_fd.get(), kind_path);
      if (!read) return tl::unexpected(std::move(read.error()).context(what()));
      files = std::move(*read);
    } else if (errno != ENOENT) {
      return tl::unexpected(error::from_errno(errno, "open " + kind_path.string()).context(what()));
    }
    bool unchanged = true;
    for (int i = 0; i < 2; ++i) {
      auto now = journal_generation(journal_file(dir, i));
      if (!now) return tl::unexpected(std::move(now.error()).context(what()));
      unchanged = unchanged && *now == journal->generations[i];
    }
    if (unchanged) return up_to_date(std::move(files), journal->entries, kind);
  }
  return fail(
      error_kind::unavailable,
      fmt::format("{}: the store was checkpointed during each of {} reads", what(), attempts));
}

// --- start-up ----------------------------------------------------------------

result<std::unique_ptr<record_store>> record_store::open(const fs::path& dir,
                                                         const std::vector<std::string>& kinds,
                                                         std::size_t journal_bytes) {
  std::unique_ptr<record_store> store(new record_store());
  if (auto ok = store->init(dir, kinds, journal_bytes); !ok) {
    return tl::unexpected(
        std::move(ok.error()).context(fmt::format("open record store {}", dir.string())));
  }
  return store;
}

result<void> record_store::init(const fs::path& dir, const std::vector<std::string>& kinds,
                                std::size_t journal_bytes) {
  dir_ = dir;
  // mkdir -p, each new directory made durable in its parent.
  if (auto made = sys::make_dirs(dir.native(), 0700, sys::durability::synced); !made)
    return tl::unexpected(std::move(made.error()));
  dir_fd_ = ::open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (dir_fd_ < 0) return fail_at("open", dir, errno);
  if (::flock(dir_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return fail_at("flock", dir, errno);
    return fail(error_kind::failed_precondition,
                "in use by another store (is another ringcri running?)");
  }

  for (const auto& name : kinds) {
    if (auto ok = check_name("record kind", name); !ok) return ok;
    if (find_kind(name)) continue;  // named twice
    kind_dir k{name, dir / name, -1};
    if (::mkdirat(dir_fd_, name.c_str(), 0700) == 0) {
      if (::fsync(dir_fd_) != 0) return fail_at("fsync", dir, errno);
    } else if (errno != EEXIST) {
      return fail_at("mkdir", k.path, errno);
    }
    k.fd = ::openat(dir_fd_, name.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (k.fd < 0) return fail_at("open", k.path, errno);
    kinds_.push_back(k);

    if (auto ok = remove_temp_files(k.fd, k.path); !ok) return ok;
  }
  if (auto ok = remove_temp_files(dir_fd_, dir_); !ok) return ok;

  // What a crash left in the journal goes to the files now.
  auto journal = record_journal::open(dir, journal_bytes,
                                      [this](const auto& entries) { return apply(entries); });
  if (!journal) return tl::unexpected(std::move(journal.error()));
  journal_ = std::move(*journal);
  return journal_->checkpoint();
}

result<void> record_store::checkpoint() { return journal_->checkpoint(); }

result<void> record_store::apply(const std::vector<journal_entry>& entries) {
  // The last entry of each key is its state.
  std::map<std::pair<std::string_view, std::string_view>, const journal_entry*> last;
  for (const auto& e : entries) last[{e.kind, e.id}] = &e;
  // Per kind: the files to write, all at once, and the ones to delete.
  std::map<const kind_dir*, std::vector<sys::named_bytes>> puts;
  std::map<const kind_dir*, std::vector<std::string_view>> removes;
  for (const auto& [key, e] : last) {
    auto k = find_kind(e->kind);
    // Not from this daemon's puts (which check both): left alone.
    if (!k || !check_record_id(e->id)) continue;
    if (e->op == journal_op::put)
      puts[*k].push_back({e->id, e->bytes});
    else
      removes[*k].push_back(e->id);
  }
  for (const auto& [k, files] : puts) {
    if (auto written = sys::write_files_atomic(k->fd, k->path.native(), files, 0600); !written) return written;
  }
  for (const auto& [k, ids] : removes) {
    for (auto id : ids) {
      if (::unlinkat(k->fd, std::string(id).c_str(), 0) != 0 && errno != ENOENT)
        return fail_at("unlink", k->path / id, errno);
    }
    if (::fsync(k->fd) != 0) return fail_at("fsync", k->path, errno);
  }
  return {};
}

record_store::~record_store() {
  // First: a checkpoint on the pool writes through the kinds' fds.
  journal_.reset();
  for (auto& k : kinds_) ::close(k.fd);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

result<std::vector<record>> record_store::load(std::string_view kind) const {
  auto k = find_kind(kind);
  if (!k) return tl::unexpected(std::move(k.error()));
  auto what = [&] { return fmt::format("load records {}", kind); };
  // The journal first: it waits for a checkpoint in flight, whose writes
  // the files must then already hold.
  auto entries = journal_->entries();
  if (!entries) return tl::unexpected(std::move(entries.error()).context(what()));
  auto records = read_records((*k)->fd, (*k)->path);
  if (!records) return tl::unexpected(std::move(records.error()).context(what()));
  // The journal's entries of this kind, newest last, over the files.
  return up_to_date(std::move(*records), *entries, kind);
}

result<const record_store::kind_dir*> record_store::find_kind(std::string_view kind) const {
  for (const auto& k : kinds_) {
    if (k.name == kind) return &k;
  }
  return fail(error_kind::invalid_argument, fmt::format("unknown record kind \"{}\"", shown(kind)));
}

// --- writes ------------------------------------------------------------------

reactor::task<result<void>> record_store::put(std::string kind, std::string id, std::string bytes) {
  auto what = [&] { return fmt::format("write record {}/{}", kind, shown(id)); };
  if (!reactor::reactor::current()) {
    co_return fail(error_kind::internal, what() + ": not on a reactor thread");
  }
  auto k = find_kind(kind);
  if (!k) co_return tl::unexpected(std::move(k.error()).context(what()));
  if (auto ok = check_record_id(id); !ok)
    co_return tl::unexpected(std::move(ok.error()).context(what()));

  // Cost: one allocation for the key (kind and id never hold '/').
  const std::string key = kind + '/' + id;
  auto t = co_await sequencer_.enter(key);
  if (!t.must_write) co_return std::move(*t.outcome);
  result<void> written = co_await journal_->append(journal_op::put, (*k)->name, id, bytes);
  if (!written) written = tl::unexpected(std::move(written.error()).context(what()));
  sequencer_.leave(key, t, written);
  co_return written;
}

reactor::task<result<void>> record_store::remove(std::string kind, std::string id) {
  auto what = [&] { return fmt::format("remove record {}/{}", kind, shown(id)); };
  if (!reactor::reactor::current()) {
    co_return fail(error_kind::internal, what() + ": not on a reactor thread");
  }
  auto k = find_kind(kind);
  if (!k) co_return tl::unexpected(std::move(k.error()).context(what()));
  if (auto ok = check_record_id(id); !ok)
    co_return tl::unexpected(std::move(ok.error()).context(what()));

  const std::string key = kind + '/' + id;
  auto t = co_await sequencer_.enter(key);
  if (!t.must_write) co_return std::move(*t.outcome);
  result<void> removed = co_await journal_->append(journal_op::remove, (*k)->name, id, {});
  if (!removed) removed = tl::unexpected(std::move(removed.error()).context(what()));
  sequencer_.leave(key, t, removed);
  co_return removed;
}

}  // namespace ringcri::cri::store
