// reactor::write_file_atomic (src/reactor/atomic_file.hpp): the same steps
// as sys::write_file_atomic through the ring; real files under /tmp, read
// back from outside.

#include "reactor/atomic_file.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "reactor/reactor.hpp"

using namespace ringcri;
namespace io = ringcri::reactor;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path;
  int fd;
  temp_dir() {
    char tmpl[] = "/tmp/ringcri-test-XXXXXX";
    path = ::mkdtemp(tmpl);
    fd = ::open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  }
  ~temp_dir() {
    ::close(fd);
    fs::remove_all(path);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

result<void> write(io::reactor& r, const temp_dir& dir, const std::string& name,
                   const std::string& data, mode_t mode) {
  return r.block_on(io::write_file_atomic(dir.fd, dir.path.native(), name, data, mode));
}

}  // namespace

TEST_CASE("write_file_atomic on the ring creates, then replaces whole, and leaves no temp file") {
  io::reactor r;
  temp_dir dir;
  mode_t saved = ::umask(022);
  auto first = write(r, dir, "exit", "{\"exit_code\":0}\n", 0640);
  ::umask(saved);
  REQUIRE(first);
  CHECK(slurp(dir.path / "exit") == "{\"exit_code\":0}\n");
  struct stat st {};
  REQUIRE(::stat((dir.path / "exit").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  REQUIRE(write(r, dir, "exit", std::string(100'000, 'z'), 0640));
  CHECK(slurp(dir.path / "exit") == std::string(100'000, 'z'));
  CHECK(names_in(dir.path) == std::vector<std::string>{"exit"});
}

TEST_CASE("write_file_atomic on the ring into a removed directory fails naming the temp path") {
  io::reactor r;
  temp_dir dir;
  fs::create_directory(dir.path / "sub");
  int sub = ::open((dir.path / "sub").c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  REQUIRE(sub >= 0);
  fs::remove(dir.path / "sub");
  auto failed =
      r.block_on(io::write_file_atomic(sub, (dir.path / "sub").native(), "record", "data", 0600));
  ::close(sub);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().kind() == error_kind::not_found);
  CHECK_THAT(failed.error().message(),
             Catch::StartsWith("create " + (dir.path / "sub" / ".record.tmp-").string()));
}
