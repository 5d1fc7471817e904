// Hostile layers: every way an archive can try to write outside the layer
// root is refused with INVALID_ARGUMENT naming the entry, and a sentinel
// directory beside the root (and /etc) is left exactly as it was.

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "extract_support.hpp"

using namespace ringcri;
using namespace ringcri::image;
using namespace unpack_test;

namespace {

const bool is_root = require_root();

// <base>/root is the layer root; <base>/outside must never change.
struct arena {
  temp_dir base;
  fs::path root = base.path / "root";
  fs::path outside = base.path / "outside";
  std::map<std::string, node> before;
  struct stat passwd_before = lstat_of("/etc/passwd");

  arena() {
    fs::create_directories(root);
    fs::create_directories(outside / "sub");
    write_file(outside / "keep", "precious");
    write_file(outside / "sub/also", "precious too");
    before = snapshot(outside);
  }

  void check_untouched() {
    auto diff = differences(before, snapshot(outside));
    for (const auto& d : diff) UNSCOPED_INFO(d);
    CHECK(diff.empty());
    CHECK_FALSE(exists_nofollow("/etc/ringcri-unpack-escape"));
    CHECK_FALSE(exists_nofollow("/ringcri-unpack-escape"));
    auto passwd = lstat_of("/etc/passwd");
    CHECK(passwd.st_nlink == passwd_before.st_nlink);
    CHECK(passwd.st_mode == passwd_before.st_mode);
    CHECK(passwd.st_uid == passwd_before.st_uid);
  }

  // Extracts and expects a refusal naming `entry`.
  void refuse(const std::string& archive, const std::string& entry, std::size_t chunk = 64 << 10) {
    auto r = extract(archive, root, chunk);
    REQUIRE_FALSE(r);
    INFO(r.error().message());
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(r.error().message(), Catch::Contains("\"" + entry + "\""));
    check_untouched();
  }
};

}  // namespace

TEST_CASE("names climbing out with .. are refused", "[malicious]") {
  arena a;
  for (std::string name : {"../outside/pwned", "../../etc/ringcri-unpack-escape",
                           "a/../../outside/keep", "./../outside/sub/also", ".."}) {
    INFO(name);
    tar_writer w;
    w.file(name, "evil").end();
    a.refuse(w.str(), name);
    tar_writer d;
    d.dir(name + "/newdir").end();
    a.refuse(d.str(), name + "/newdir");
  }
  // ".." that stays inside is only a name.
  tar_writer fine;
  fine.file("a/../b", "ok").end();
  REQUIRE(extract(fine.str(), a.root));
  CHECK(read_file(a.root / "b") == "ok");
  a.check_untouched();
}

TEST_CASE("absolute names are refused", "[malicious]") {
  arena a;
  for (const std::string& name :
       std::vector<std::string>{"/etc/ringcri-unpack-escape", "/ringcri-unpack-escape",
                                (a.outside / "pwned").string(), "//x"}) {
    INFO(name);
    tar_writer w;
    w.file(name, "evil").end();
    a.refuse(w.str(), name);
  }
  CHECK_FALSE(exists_nofollow(a.outside / "pwned"));
}

TEST_CASE("a symlink planted earlier does not lead out", "[malicious]") {
  arena a;
  std::string out = a.outside.string();
  struct attempt {
    std::string what;
    std::function<void(tar_writer&)> entry;
    std::string name;
  };
  std::vector<attempt> attempts{
      {"file", [](tar_writer& w) { w.file("evil/keep", "overwritten"); }, "evil/keep"},
      {"new file", [](tar_writer& w) { w.file("evil/new", "x"); }, "evil/new"},
      {"file in a dir made on demand", [](tar_writer& w) { w.file("evil/made/f", "x"); },
       "evil/made/f"},
      {"dir", [](tar_writer& w) { w.dir("evil/sub", 0777); }, "evil/sub"},
      {"symlink", [](tar_writer& w) { w.symlink("evil/ln", "/"); }, "evil/ln"},
      {"hard link", [](tar_writer& w) { w.file("inside", "i").hard_link("evil/hl", "inside"); },
       "evil/hl"},
      {"device", [](tar_writer& w) { w.device("evil/dev", '3', 1, 3); }, "evil/dev"},
      {"fifo", [](tar_writer& w) { w.device("evil/fifo", '6', 0, 0); }, "evil/fifo"},
      {"whiteout", [](tar_writer& w) { w.file("evil/.wh.keep", ""); }, "evil/.wh.keep"},
      {"opaque marker", [](tar_writer& w) { w.file("evil/.wh..wh..opq", ""); },
       "evil/.wh..wh..opq"},
      {"xattr",
       [](tar_writer& w) {
         w.pax({{"SCHILY.xattr.trusted.pwned", "y"}}).dir("evil/sub");
       },
       "evil/sub"},
  };
  for (const auto& link_target : {out, std::string("../outside"), out + "/sub/.."}) {
    for (const auto& [what, entry, name] : attempts) {
      INFO(what << " through evil -> " << link_target);
      fs::remove_all(a.root);
      fs::create_directories(a.root);
      tar_writer w;
      w.symlink("evil", link_target);
      entry(w);
      w.end();
      a.refuse(w.str(), name, 7);
    }
  }
}

TEST_CASE("symlinks to .. chained do not lead out", "[malicious]") {
  arena a;
  tar_writer w;
  w.symlink("up", "..").file("up/outside/pwned", "x").end();
  a.refuse(w.str(), "up/outside/pwned");

  fs::remove_all(a.root);
  fs::create_directories(a.root);
  tar_writer chain;
  chain.dir("a/b")
      .symlink("a/b/up", "..")       // a
      .symlink("a/up", "..")         // root
      .symlink("a/b/top", "up/up")   // a/b/up/up = root
      .file("a/b/top/inside", "ok")  // still inside: fine
      .symlink("a/b/out", "top/..")  // root/.. : out
      .file("a/b/out/outside/pwned", "x")
      .end();
  a.refuse(chain.str(), "a/b/out/outside/pwned", 1);
  CHECK(read_file(a.root / "inside") == "ok");

  fs::remove_all(a.root);
  fs::create_directories(a.root);
  tar_writer loop;
  loop.symlink("l1", "l2").symlink("l2", "l1").file("l1/x", "x").end();
  auto r = extract(loop.str(), a.root);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(), Catch::Contains("\"l1/x\""));
  a.check_untouched();
}

TEST_CASE("hard links to files outside are refused", "[malicious]") {
  arena a;
  for (const std::string& target :
       std::vector<std::string>{"/etc/passwd", "../../../../../../etc/passwd", "../outside/keep",
                                (a.outside / "keep").string()}) {
    INFO(target);
    fs::remove_all(a.root);
    fs::create_directories(a.root);
    tar_writer w;
    w.hard_link("passwd", target).end();
    auto r = extract(w.str(), a.root);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(r.error().message(), Catch::Contains("\"passwd\""));
    CHECK_FALSE(exists_nofollow(a.root / "passwd"));
    a.check_untouched();
  }
  // Through a symlink planted to reach the target.
  for (std::string via : {"/etc", "../outside"}) {
    fs::remove_all(a.root);
    fs::create_directories(a.root);
    tar_writer w;
    w.symlink("etc", via).hard_link("passwd", via == "/etc" ? "etc/passwd" : "etc/keep").end();
    a.refuse(w.str(), "passwd");
    CHECK_FALSE(exists_nofollow(a.root / "passwd"));
  }
}

TEST_CASE("an entry over a planted symlink replaces the link, never its target", "[malicious]") {
  arena a;
  std::string keep = (a.outside / "keep").string();
  tar_writer w;
  w.symlink("f", keep)
      .file("f", "replaced the link")
      .symlink("d", a.outside.string())
      .dir("d", 0777)  // a dir replacing the link: not chmod of outside/
      .symlink("n", keep)
      .device("n", '3', 1, 3, 0666)
      .symlink("x", keep)
      .pax({{"SCHILY.xattr.trusted.pwned", "y"}})
      .symlink("x", keep)  // xattrs of a symlink entry go on the link
      .end();
  auto r = extract(w.str(), a.root, 7);
  if (!r) FAIL(r.error().message());
  CHECK(read_file(a.root / "f") == "replaced the link");
  CHECK(S_ISDIR(lstat_of(a.root / "d").st_mode));
  CHECK(S_ISCHR(lstat_of(a.root / "n").st_mode));
  CHECK(xattr_of(a.root / "x", "trusted.pwned") == "y");
  a.check_untouched();
}

TEST_CASE("a layer that fails half-way leaves what it wrote inside only", "[malicious]") {
  arena a;
  tar_writer w;
  w.file("ok1", "1")
      .dir("dir")
      .file("dir/ok2", "2")
      .file("../outside/pwned", "x")
      .file("never", "3")
      .end();
  a.refuse(w.str(), "../outside/pwned");
  CHECK(read_file(a.root / "ok1") == "1");
  CHECK_FALSE(exists_nofollow(a.root / "never"));
}
