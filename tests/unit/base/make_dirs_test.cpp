// sys::make_dirs (src/base/sys/make_dirs.hpp): real directories under /tmp.

#include "base/sys/make_dirs.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cerrno>

#include "base_support.hpp"

using namespace ringcri;
using namespace base_test;

namespace {

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("make_dirs makes each missing level and says which, outermost first") {
  temp_dir t;
  fs::create_directory(t.path / "a");
  for (auto how : {sys::durability::unsynced, sys::durability::synced}) {
    const fs::path top = t.path / (how == sys::durability::synced ? "s" : "u");
    mode_t saved = ::umask(022);
    auto made = sys::make_dirs((top / "b" / "c").native(), 0750, how);
    ::umask(saved);
    REQUIRE(made);
    CHECK(*made ==
          std::vector<std::string>{top.string(), (top / "b").string(), (top / "b" / "c").string()});
    CHECK(fs::is_directory(top / "b" / "c"));
    CHECK(mode_of(top / "b" / "c") == 0750);
    // Again: all there, nothing made.
    auto again = sys::make_dirs((top / "b" / "c").native(), 0750, how);
    REQUIRE(again);
    CHECK(again->empty());
  }
}

TEST_CASE("make_dirs takes relative paths, repeated and trailing slashes, and \".\"") {
  temp_dir t;
  const auto cwd = fs::current_path();
  fs::current_path(t.path);
  auto made = sys::make_dirs("x//./y/", 0755);
  fs::current_path(cwd);
  REQUIRE(made);
  CHECK(*made == std::vector<std::string>{"x", "x/y"});
  CHECK(fs::is_directory(t.path / "x" / "y"));
}

TEST_CASE("a failing make_dirs removes what it made and names the path") {
  temp_dir t;
  spit(t.path / "file", "not a directory");
  // "made/more" are made, then "file/..." cannot be: ENOTDIR.
  auto failed =
      sys::make_dirs((t.path / "made" / "more" / ".." / ".." / "file" / "x").native(), 0755);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().sys_errno() == ENOTDIR);
  CHECK_THAT(failed.error().message(), Catch::Contains((t.path / "made").string()));
  CHECK(names_in(t.path) == std::vector<std::string>{"file"});
}
