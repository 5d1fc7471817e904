// sys::list_dir (src/base/sys/list_dir.hpp): real directories under /tmp.

#include "base/sys/list_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>

#include "base/unique_fd.hpp"
#include "base_support.hpp"

using namespace ringcri;
using namespace base_test;

namespace {

std::vector<std::string> sorted_names(const std::vector<sys::dir_entry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.name);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("list_dir gives every name but . and .., with its type") {
  temp_dir t;
  fs::create_directory(t.path / "sub");
  spit(t.path / "file", "x");
  spit(t.path / ".hidden", "x");
  fs::create_symlink("file", t.path / "link");
  auto entries = sys::list_dir(AT_FDCWD, t.path.native());
  REQUIRE(entries);
  CHECK(sorted_names(*entries) == std::vector<std::string>{".hidden", "file", "link", "sub"});
  for (const auto& e : *entries) {
    INFO(e.name);
    // DT_UNKNOWN is allowed by readdir(3); tmpfs and ext4 give the type.
    if (e.type == DT_UNKNOWN) continue;
    if (e.name == "sub") CHECK(e.type == DT_DIR);
    if (e.name == "file" || e.name == ".hidden") CHECK(e.type == DT_REG);
    if (e.name == "link") CHECK(e.type == DT_LNK);
  }
}

TEST_CASE("list_dir of a directory fd leaves the fd's offset alone, and lists again") {
  temp_dir t;
  for (const char* n : {"a", "b", "c"}) spit(t.path / n, "");
  unique_fd fd(::open(t.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd);
  const off_t before = ::lseek(fd.get(), 0, SEEK_CUR);
  auto first = sys::list_dir(fd.get());
  REQUIRE(first);
  CHECK(::lseek(fd.get(), 0, SEEK_CUR) == before);
  auto second = sys::list_dir(fd.get());
  REQUIRE(second);
  CHECK(sorted_names(*first) == std::vector<std::string>{"a", "b", "c"});
  CHECK(sorted_names(*second) == sorted_names(*first));
}

TEST_CASE("list_dir of an empty directory is empty; of a missing one, ENOENT naming it") {
  temp_dir t;
  auto empty = sys::list_dir(AT_FDCWD, t.path.native());
  REQUIRE(empty);
  CHECK(empty->empty());
  auto missing = sys::list_dir(AT_FDCWD, (t.path / "nope").native());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().sys_errno() == ENOENT);
  CHECK_THAT(missing.error().message(), Catch::Contains((t.path / "nope").string()));
}

TEST_CASE("list_dir does not follow a symlink to a directory, nor list a file") {
  temp_dir t;
  fs::create_directory(t.path / "real");
  spit(t.path / "real" / "inside", "");
  fs::create_directory_symlink("real", t.path / "alias");
  auto via_link = sys::list_dir(AT_FDCWD, (t.path / "alias").native());
  REQUIRE_FALSE(via_link);
  // O_NOFOLLOW with O_DIRECTORY: the kernel says ENOTDIR (a symlink is not
  // a directory) where O_NOFOLLOW alone says ELOOP.
  CHECK((via_link.error().sys_errno() == ENOTDIR || via_link.error().sys_errno() == ELOOP));
  spit(t.path / "file", "");
  auto file = sys::list_dir(AT_FDCWD, (t.path / "file").native());
  REQUIRE_FALSE(file);
  CHECK(file.error().sys_errno() == ENOTDIR);
}
