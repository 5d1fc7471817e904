// sys::is_journal_stream (src/base/sys/journal_stream.hpp): JOURNAL_STREAM
// values made from real files' device and inode numbers.

#include "base/sys/journal_stream.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "base_support.hpp"

using namespace ringcri;

namespace {

std::string journal_stream_of(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

}  // namespace

TEST_CASE("a stream is the journal's when JOURNAL_STREAM names its device and inode") {
  base_test::temp_dir dir;
  int ours = ::open((dir.path / "ours").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  int other = ::open((dir.path / "other").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(ours >= 0);
  REQUIRE(other >= 0);
  const std::string value = journal_stream_of(ours);
  CHECK(sys::is_journal_stream(ours, value.c_str()));
  // A child that inherited the variable but writes elsewhere.
  CHECK_FALSE(sys::is_journal_stream(other, value.c_str()));
  // The same inode number on another device is another file.
  struct stat st {};
  REQUIRE(::fstat(ours, &st) == 0);
  const std::string elsewhere = std::to_string(st.st_dev + 1) + ":" + std::to_string(st.st_ino);
  CHECK_FALSE(sys::is_journal_stream(ours, elsewhere.c_str()));
  ::close(ours);
  ::close(other);
}

TEST_CASE("an unset or malformed JOURNAL_STREAM matches nothing") {
  base_test::temp_dir dir;
  int fd = ::open((dir.path / "f").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  const std::string value = journal_stream_of(fd);
  const std::string device = value.substr(0, value.find(':'));
  const std::string inode = value.substr(value.find(':') + 1);
  CHECK_FALSE(sys::is_journal_stream(fd, nullptr));
  for (const std::string& bad :
       {std::string(), inode, device + ":", ":" + inode, device + ":" + inode + "x",
        device + ":" + inode + ":0", "-" + value, device + ": " + inode})
    CHECK_FALSE(sys::is_journal_stream(fd, bad.c_str()));
  CHECK_FALSE(sys::is_journal_stream(-1, value.c_str()));
  ::close(fd);
}
