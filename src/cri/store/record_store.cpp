#include "cri/store/record_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <span>
#include <utility>

#include "base/sys/atomic_file.hpp"
#include "base/sys/list_dir.hpp"
#include "base/sys/make_dirs.hpp"
#include "base/unique_fd.hpp"
#include "reactor/atomic_file.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::cri::store {

namespace io = ringcri::reactor;
namespace fs = std::filesystem;

namespace {

tl::unexpected<error> fail_at(std::string_view step, const fs::path& path, int sys_errno) {
  return fail_errno(sys_errno, fmt::format("{} {}", step, path.string()));
}

tl::unexpected<error> fail_at(std::string_view step, const fs::path& path, std::error_code ec) {
  return tl::unexpected(error::from_error_code(ec, fmt::format("{} {}", step, path.string())));
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

}  // namespace

result<void> check_record_id(std::string_view id) { return check_name("record id", id); }

// --- start-up ----------------------------------------------------------------

result<std::unique_ptr<record_store>> record_store::open(const fs::path& dir,
                                                         const std::vector<std::string>& kinds,
                                                         const std::vector<std::string>& unsynced_kinds) {
  std::unique_ptr<record_store> store(new record_store());
  if (auto ok = store->init(dir, kinds, unsynced_kinds); !ok) {
    return tl::unexpected(
        std::move(ok.error()).context(fmt::format("open record store {}", dir.string())));
  }
  return store;
}

result<void> record_store::init(const fs::path& dir, const std::vector<std::string>& kinds,
                                const std::vector<std::string>& unsynced_kinds) {
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
    kind_dir k{name, dir / name, -1, true};
    k.synced = std::find(unsynced_kinds.begin(), unsynced_kinds.end(), name) == unsynced_kinds.end();
    if (::mkdirat(dir_fd_, name.c_str(), 0700) == 0) {
      if (::fsync(dir_fd_) != 0) return fail_at("fsync", dir, errno);
    } else if (errno != EEXIST) {
      return fail_at("mkdir", k.path, errno);
    }
    k.fd = ::openat(dir_fd_, name.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (k.fd < 0) return fail_at("open", k.path, errno);
    kinds_.push_back(k);

    // Temp files were never acknowledged to anyone: drop them.
    auto entries = list_kind_dir(k.fd, k.path);
    if (!entries) return tl::unexpected(std::move(entries.error()));
    bool removed = false;
    for (const auto& entry : *entries) {
      const std::string& n = entry.name;
      if (!sys::is_atomic_temp_name(n)) continue;
      if (::unlinkat(k.fd, n.c_str(), 0) != 0 && errno != ENOENT) {
        return fail_at("unlink", k.path / n, errno);
      }
      removed = true;
    }
    if (removed && ::fsync(k.fd) != 0) return fail_at("fsync", k.path, errno);
  }
  return {};
}

record_store::~record_store() {
  for (auto& k : kinds_) ::close(k.fd);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

result<std::vector<record>> record_store::load(std::string_view kind) const {
  auto k = find_kind(kind);
  if (!k) return tl::unexpected(std::move(k.error()));
  auto records = read_records((*k)->fd, (*k)->path);
  if (!records)
    return tl::unexpected(std::move(records.error()).context(fmt::format("load records {}", kind)));
  return records;
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
  result<void> written = co_await write_file(**k, id, bytes);
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
  result<void> removed = co_await unlink_file(**k, id);
  if (!removed) removed = tl::unexpected(std::move(removed.error()).context(what()));
  sequencer_.leave(key, t, removed);
  co_return removed;
}

reactor::task<result<void>> record_store::write_file(const kind_dir& k, const std::string& id,
                                                     const std::string& bytes) {
  // A temp file left by a failure or a crash goes at the next open().
  co_return co_await io::write_file_atomic(
      k.fd, k.path.native(), id, bytes, 0600,
      k.synced ? sys::durability::synced : sys::durability::unsynced);
}

reactor::task<result<void>> record_store::unlink_file(const kind_dir& k, const std::string& id) {
  auto unlinked = co_await io::unlinkat(k.fd, id.c_str());
  if (!unlinked && unlinked.error().value() != ENOENT) {
    co_return fail_at("unlink", k.path / id, unlinked.error());
  }
  if (!k.synced) co_return result<void>{};
  // Even when missing: an earlier unlink may not be durable yet.
  auto synced = co_await io::fsync(k.fd);
  if (!synced) co_return fail_at("fsync", k.path, synced.error());
  co_return result<void>{};
}

}  // namespace ringcri::cri::store
