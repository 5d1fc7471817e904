// sys::write_file_atomic, write_files_atomic and their temp names (src/base/sys/atomic_file.hpp):
// real files under /tmp, read back from outside.

#include "base/sys/atomic_file.hpp"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <string>

#include "base/unique_fd.hpp"
#include "base_support.hpp"

using namespace ringcri;
using namespace base_test;

namespace {

struct store_dir {
  temp_dir t;
  unique_fd fd{::open(t.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("write_file_atomic creates, then replaces the content whole, and leaves no temp file") {
  store_dir d;
  for (auto how : {sys::durability::synced, sys::durability::unsynced}) {
    REQUIRE(sys::write_file_atomic(d.fd.get(), d.t.path.native(), "record", "first version", 0600,
                                   how));
    CHECK(slurp(d.t.path / "record") == "first version");
    REQUIRE(sys::write_file_atomic(d.fd.get(), d.t.path.native(), "record", "v2", 0600, how));
    CHECK(slurp(d.t.path / "record") == "v2");
    CHECK(names_in(d.t.path) == std::vector<std::string>{"record"});
  }
  REQUIRE(sys::write_file_atomic(d.fd.get(), d.t.path.native(), "empty", "", 0600,
                                 sys::durability::synced));
  CHECK(slurp(d.t.path / "empty").empty());
}

TEST_CASE("write_files_atomic replaces many files whole, with the mode, and leaves no temp file") {
  store_dir d;
  REQUIRE(sys::write_file_atomic(d.fd.get(), d.t.path.native(), "b", "old b", 0600, sys::durability::synced));
  const std::vector<sys::named_bytes> files = {{"a", "new a"}, {"b", "new b"}, {"c", ""}};
  mode_t saved = ::umask(077);
  auto written = sys::write_files_atomic(d.fd.get(), d.t.path.native(), files, 0640);
  ::umask(saved);
  REQUIRE(written);
  CHECK(slurp(d.t.path / "a") == "new a");
  CHECK(slurp(d.t.path / "b") == "new b");
  CHECK(slurp(d.t.path / "c").empty());
  CHECK(mode_of(d.t.path / "a") == 0640);
  CHECK(names_in(d.t.path) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("write_files_atomic failing at one rename keeps those before it and removes the rest's temps") {
  store_dir d;
  // A directory where the second file goes: its rename fails (EISDIR).
  fs::create_directory(d.t.path / "b");
  fs::create_directory(d.t.path / "b" / "inside");
  const std::vector<sys::named_bytes> files = {{"a", "new a"}, {"b", "new b"}, {"c", "new c"}};
  auto written = sys::write_files_atomic(d.fd.get(), d.t.path.native(), files, 0600);
  REQUIRE_FALSE(written);
  INFO(written.error().message());
  CHECK_THAT(written.error().message(), Catch::StartsWith("rename " + d.t.path.string() + "/.b.tmp-"));
  CHECK_THAT(written.error().message(), Catch::Contains(" to b: "));
  CHECK(slurp(d.t.path / "a") == "new a");
  CHECK(fs::is_directory(d.t.path / "b"));
  CHECK(names_in(d.t.path) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("write_file_atomic gives the mode whatever the umask") {
  store_dir d;
  mode_t saved = ::umask(077);
  auto written = sys::write_file_atomic(d.fd.get(), d.t.path.native(), "hosts", "x", 0644,
                                        sys::durability::unsynced);
  ::umask(saved);
  REQUIRE(written);
  CHECK(mode_of(d.t.path / "hosts") == 0644);
}

TEST_CASE("a failed write keeps the old content and removes its temp file") {
  store_dir d;
  REQUIRE(sys::write_file_atomic(d.fd.get(), d.t.path.native(), "record", "old", 0600,
                                 sys::durability::synced));
  // A file-size limit makes the kernel refuse the write past 4 KiB (EFBIG).
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  auto failed = sys::write_file_atomic(d.fd.get(), d.t.path.native(), "record",
                                       std::string(10'000, 'n'), 0600, sys::durability::synced);
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, old_handler);

  REQUIRE_FALSE(failed);
  INFO(failed.error().message());
  CHECK(failed.error().sys_errno() == EFBIG);
  CHECK_THAT(failed.error().message(),
             Catch::StartsWith("write " + (d.t.path / ".record.tmp-").string()));
  CHECK(slurp(d.t.path / "record") == "old");
  CHECK(names_in(d.t.path) == std::vector<std::string>{"record"});
}

TEST_CASE("a write into a directory removed meanwhile fails naming the path") {
  store_dir d;
  fs::create_directory(d.t.path / "sub");
  unique_fd sub(::open((d.t.path / "sub").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  fs::remove(d.t.path / "sub");
  auto failed = sys::write_file_atomic(sub.get(), (d.t.path / "sub").native(), "x", "data", 0600,
                                       sys::durability::synced);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().kind() == error_kind::not_found);
  CHECK_THAT(failed.error().message(),
             Catch::StartsWith("create " + (d.t.path / "sub" / ".x.tmp-").string()));
}

TEST_CASE("temp names are fresh, fit in a file name, and are known by their shape") {
  std::string a = sys::atomic_temp_name("p1");
  std::string b = sys::atomic_temp_name("p1");
  CHECK(a != b);
  CHECK(a.starts_with(".p1.tmp-"));
  CHECK(a.size() == std::string(".p1.tmp-").size() + 16);
  CHECK(sys::is_atomic_temp_name(a));
  std::string longest = sys::atomic_temp_name(std::string(NAME_MAX, 'x'));
  CHECK(longest.size() <= NAME_MAX);
  CHECK(sys::is_atomic_temp_name(longest));
  // What a record or a file of ours may be called is never a temp.
  for (const char* name : {"x", "z.tmp-1", "resolv.conf", ".hidden", "hosts.tmp"})
    CHECK_FALSE(sys::is_atomic_temp_name(name));
  // Temp names of earlier versions are still swept.
  CHECK(sys::is_atomic_temp_name(".x.tmp-7"));
}
