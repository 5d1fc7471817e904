// Exit records: what is written reads back, the file appears whole (no
// temp file left beside it), and a missing record is NOT_FOUND.

#include "exec/keeper/exit_record.hpp"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "exec/keeper/client.hpp"
#include "reactor/reactor.hpp"

namespace fs = std::filesystem;
namespace io = ringcri::reactor;
using ringcri::exec::keeper::exit_status;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/ringcri-exit-record-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("an exit record round-trips and leaves no temp file") {
  temp_dir dir;
  fs::path path = dir.path / "sub" / "exit";
  io::reactor r;
  exit_status s{"ignored", 137, 9, 1795403045123456789};
  auto ok = r.block_on(ringcri::exec::keeper::write_exit_record(path.string(), s));
  REQUIRE(ok);
  CHECK(slurp(path) == "{\"exit_code\":137,\"finished_at\":1795403045123456789,\"signal\":9}\n");
  auto back = ringcri::exec::keeper::read_exit_record(path);
  REQUIRE(back);
  CHECK(back->exit_code == 137);
  CHECK(back->signal == 9);
  CHECK(back->finished_at == 1795403045123456789);

  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(path.parent_path())) {
    names.push_back(e.path().filename().string());
  }
  CHECK(names == std::vector<std::string>{"exit"});
}

TEST_CASE("a second exit record replaces the first whole") {
  temp_dir dir;
  fs::path path = dir.path / "exit";
  io::reactor r;
  exit_status first{"", 0, 0, 1};
  exit_status second{"", 3, 0, 2};
  REQUIRE(r.block_on(ringcri::exec::keeper::write_exit_record(path.string(), first)));
  REQUIRE(r.block_on(ringcri::exec::keeper::write_exit_record(path.string(), second)));
  auto back = ringcri::exec::keeper::read_exit_record(path);
  REQUIRE(back);
  CHECK(back->exit_code == 3);
  CHECK(back->finished_at == 2);
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("a missing exit record is NOT_FOUND, a garbled one INVALID_ARGUMENT") {
  temp_dir dir;
  auto missing = ringcri::exec::keeper::read_exit_record(dir.path / "none");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind() == ringcri::error_kind::not_found);
  CHECK(missing.error().message().find((dir.path / "none").string()) != std::string::npos);

  std::ofstream(dir.path / "bad") << "{\"exit";
  auto bad = ringcri::exec::keeper::read_exit_record(dir.path / "bad");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind() == ringcri::error_kind::invalid_argument);
}
