// Writing tar entries beneath a root (image/unpack/tar_extractor.hpp),
// checked from outside with lstat, readlink and lgetxattr. Needs root.

#include "image/unpack/tar_extractor.hpp"

#include <catch2/catch.hpp>
#include <deque>
#include <string>

#include "extract_support.hpp"

using namespace ringcri;
using namespace ringcri::image;
using namespace unpack_test;

namespace {

const bool is_root = require_root();

// security.capability v2 granting cap_net_raw, effective.
const std::string net_raw_cap(
    "\x01\x00\x00\x02"
    "\x00\x20\x00\x00"
    "\x00\x00\x00\x00"
    "\x00\x00\x00\x00"
    "\x00\x00\x00\x00",
    20);

}  // namespace

TEST_CASE("files keep data, mode, owner and mtime; setuid and sticky bits survive", "[extractor]") {
  temp_dir t;
  std::string big(300'000, 'b');
  tar_writer w;
  w.file("plain", "hello\n", 0640, 1000, 1001, 1'600'000'000)
      .file("suid", big, 04755, 0, 0)
      .file("sgid", "x", 02711, 5, 6)
      .pax({{"mtime", "1700000000.987654321"}})
      .file("precise", "t", 0444)
      .file("empty", "", 0600)
      .dir("tmp", 01777)
      .end();
  auto counts = extract(w.str(), t.path);
  REQUIRE(counts);
  CHECK(counts->files == 5);
  CHECK(counts->bytes == 6 + big.size() + 2);

  auto plain = lstat_of(t.path / "plain");
  CHECK(S_ISREG(plain.st_mode));
  CHECK((plain.st_mode & 07777) == 0640);
  CHECK(plain.st_uid == 1000);
  CHECK(plain.st_gid == 1001);
  CHECK(plain.st_mtim.tv_sec == 1'600'000'000);
  CHECK(read_file(t.path / "plain") == "hello\n");
  CHECK((lstat_of(t.path / "suid").st_mode & 07777) == 04755);
  CHECK(read_file(t.path / "suid") == big);
  auto sgid = lstat_of(t.path / "sgid");
  CHECK((sgid.st_mode & 07777) == 02711);  // set after chown, which clears it
  CHECK(sgid.st_uid == 5);
  auto precise = lstat_of(t.path / "precise");
  CHECK(precise.st_mtim.tv_sec == 1'700'000'000);
  CHECK(precise.st_mtim.tv_nsec == 987'654'321);
  CHECK(lstat_of(t.path / "empty").st_size == 0);
  CHECK((lstat_of(t.path / "tmp").st_mode & 07777) == 01777);
}

TEST_CASE("directories: made on demand, kept when they exist, mtimes set last", "[extractor]") {
  temp_dir t;
  tar_writer w;
  w.dir("a", 0750, 7, 8, 1'500'000'000)
      .file("a/f1", "1")
      .file("deep/er/still/f", "2")  // no entries for its parents
      .dir("late/", 0700, 3, 3, 1'400'000'000)
      .file("late/f", "3")
      .dir("a", 0711, 9, 9, 1'450'000'000)  // again: metadata updated, content kept
      .end();
  REQUIRE(extract(w.str(), t.path));

  auto a = lstat_of(t.path / "a");
  CHECK((a.st_mode & 07777) == 0711);
  CHECK(a.st_uid == 9);
  CHECK(a.st_mtim.tv_sec == 1'450'000'000);
  CHECK(read_file(t.path / "a/f1") == "1");
  for (const char* implicit : {"deep", "deep/er", "deep/er/still"}) {
    auto d = lstat_of(t.path / implicit);
    CHECK(S_ISDIR(d.st_mode));
    CHECK((d.st_mode & 07777) == 0755);
    CHECK(d.st_uid == 0);
  }
  // The file created in late/ after its entry did not leave late/'s mtime
  // at "now".
  CHECK(lstat_of(t.path / "late").st_mtim.tv_sec == 1'400'000'000);
  CHECK(read_file(t.path / "deep/er/still/f") == "2");
}

TEST_CASE("the root entry sets the layer root's own metadata", "[extractor]") {
  temp_dir t;
  tar_writer w;
  w.dir("./", 0751, 0, 0, 1'300'000'000).file("./f", "x").end();
  REQUIRE(extract(w.str(), t.path));
  auto root = lstat_of(t.path);
  CHECK((root.st_mode & 07777) == 0751);
  CHECK(root.st_mtim.tv_sec == 1'300'000'000);
  CHECK(read_file(t.path / "f") == "x");

  tar_writer bad;
  bad.file("./", "not a dir").end();
  auto r = extract(bad.str(), t.path);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(), Catch::Contains("cannot replace the layer root"));
}

TEST_CASE("symlinks keep target, owner and mtime, and are never followed", "[extractor]") {
  temp_dir t;
  tar_header h;
  h.name = "link";
  h.type = '2';
  h.link = "/etc/does-not-matter";
  h.uid = 44;
  h.gid = 55;
  h.mtime = 1'234'567'890;
  tar_writer w;
  w.header(h).symlink("rel", "../../x").end();
  REQUIRE(extract(w.str(), t.path));
  auto st = lstat_of(t.path / "link");
  CHECK(S_ISLNK(st.st_mode));
  CHECK(st.st_uid == 44);
  CHECK(st.st_gid == 55);
  CHECK(st.st_mtim.tv_sec == 1'234'567'890);
  CHECK(fs::read_symlink(t.path / "link") == "/etc/does-not-matter");
  CHECK(fs::read_symlink(t.path / "rel") == "../../x");
}

TEST_CASE("hard links share the inode, also through a symlink-free path", "[extractor]") {
  temp_dir t;
  tar_writer w;
  w.file("bin/busybox", "elf", 0755)
      .hard_link("bin/sh", "bin/busybox")
      .hard_link("usr/bin/env", "./bin/busybox")  // parents made on demand
      .symlink("sym", "bin/busybox")
      .hard_link("sym2", "sym")            // links the symlink itself
      .hard_link("bin/sh", "bin/busybox")  // again: already that inode
      .end();
  auto counts = extract(w.str(), t.path);
  REQUIRE(counts);
  auto a = lstat_of(t.path / "bin/busybox");
  CHECK(a.st_nlink == 3);
  CHECK(lstat_of(t.path / "bin/sh").st_ino == a.st_ino);
  CHECK(lstat_of(t.path / "usr/bin/env").st_ino == a.st_ino);
  auto s2 = lstat_of(t.path / "sym2");
  CHECK(S_ISLNK(s2.st_mode));
  CHECK(s2.st_ino == lstat_of(t.path / "sym").st_ino);

  tar_writer missing;
  missing.hard_link("x", "nowhere").end();
  auto r = extract(missing.str(), t.path);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(r.error().message(),
             Catch::Contains("hard link target \"nowhere\" is not in the layer"));

  tar_writer to_dir;
  to_dir.dir("d").hard_link("x", "d").end();
  auto rd = extract(to_dir.str(), t.path);
  REQUIRE_FALSE(rd);
  CHECK_THAT(rd.error().message(), Catch::Contains("hard link to directory"));
}

TEST_CASE("devices and fifos are made with their numbers, mode and owner", "[extractor]") {
  temp_dir t;
  tar_header fifo;
  fifo.name = "run/fifo";
  fifo.type = '6';
  fifo.mode = 0620;
  fifo.uid = 11;
  fifo.gid = 12;
  tar_writer w;
  w.device("dev/null", '3', 1, 3, 0666)
      .device("dev/loop0", '4', 7, 0, 0660)
      .device("dev/big", '3', 300, 70000, 0600)
      .header(fifo)
      .end();
  auto counts = extract(w.str(), t.path);
  REQUIRE(counts);
  CHECK(counts->devices == 4);
  auto null = lstat_of(t.path / "dev/null");
  CHECK(S_ISCHR(null.st_mode));
  CHECK(major(null.st_rdev) == 1);
  CHECK(minor(null.st_rdev) == 3);
  CHECK((null.st_mode & 07777) == 0666);  // not cut by the umask
  auto loop = lstat_of(t.path / "dev/loop0");
  CHECK(S_ISBLK(loop.st_mode));
  CHECK(major(loop.st_rdev) == 7);
  auto big = lstat_of(t.path / "dev/big");
  CHECK(major(big.st_rdev) == 300);
  CHECK(minor(big.st_rdev) == 70000);
  auto f = lstat_of(t.path / "run/fifo");
  CHECK(S_ISFIFO(f.st_mode));
  CHECK((f.st_mode & 07777) == 0620);
  CHECK(f.st_uid == 11);
  CHECK(f.st_gid == 12);
}

TEST_CASE("xattrs are set on files, dirs, symlinks and devices; capabilities survive chown",
          "[extractor]") {
  temp_dir t;
  tar_writer w;
  w.pax({{"SCHILY.xattr.user.note", "hi"}, {"SCHILY.xattr.security.capability", net_raw_cap}})
      .file("bin/ping", "elf", 04755, 0, 0)
      .pax({{"SCHILY.xattr.security.capability", net_raw_cap}})
      .file("bin/owned-cap", "elf", 0755, 1000, 1000)  // chown before the xattr
      .pax({{"SCHILY.xattr.trusted.dir", "d"}, {"SCHILY.xattr.user.empty", ""}})
      .dir("etc", 0755)
      .pax({{"SCHILY.xattr.trusted.sym", "s"}})
      .symlink("lnk", "etc")
      .pax({{"SCHILY.xattr.trusted.dev", "v"}})
      .device("null", '3', 1, 3)
      .end();
  REQUIRE(extract(w.str(), t.path));
  CHECK(xattr_of(t.path / "bin/ping", "user.note") == "hi");
  CHECK(xattr_of(t.path / "bin/ping", "security.capability") == net_raw_cap);
  CHECK((lstat_of(t.path / "bin/ping").st_mode & 07777) == 04755);
  CHECK(xattr_of(t.path / "bin/owned-cap", "security.capability") == net_raw_cap);
  CHECK(lstat_of(t.path / "bin/owned-cap").st_uid == 1000);
  CHECK(xattr_of(t.path / "etc", "trusted.dir") == "d");
  CHECK(xattr_of(t.path / "etc", "user.empty") == "");
  CHECK(xattr_of(t.path / "lnk", "trusted.sym") == "s");
  CHECK(xattr_of(t.path / "etc", "trusted.sym") == "<none>");  // not through the link
  CHECK(xattr_of(t.path / "null", "trusted.dev") == "v");
}

TEST_CASE("overlay xattrs in the archive other than opaque are dropped", "[extractor]") {
  temp_dir t;
  tar_writer w;
  w.pax({{"SCHILY.xattr.trusted.overlay.redirect", "/etc"},
         {"SCHILY.xattr.trusted.overlay.metacopy", ""},
         {"SCHILY.xattr.trusted.overlay.opaque", "y"},
         {"SCHILY.xattr.trusted.other", "kept"}})
      .dir("d")
      .end();
  REQUIRE(extract(w.str(), t.path));
  CHECK(xattr_of(t.path / "d", "trusted.overlay.redirect") == "<none>");
  CHECK(xattr_of(t.path / "d", "trusted.overlay.metacopy") == "<none>");
  CHECK(xattr_of(t.path / "d", "trusted.overlay.opaque") == "y");
  CHECK(xattr_of(t.path / "d", "trusted.other") == "kept");
}

TEST_CASE("an entry replaces an existing one of another type", "[extractor]") {
  temp_dir t;
  tar_writer w;
  w.file("f-then-dir", "x")
      .dir("f-then-dir")
      .file("f-then-dir/inside", "1")
      .dir("dir-then-f/sub/deeper")
      .file("dir-then-f/sub/deeper/x", "deep")
      .file("dir-then-f", "now a file")
      .file("f-then-link", "x")
      .symlink("f-then-link", "target")
      .symlink("link-then-f", "f-then-dir/inside")
      .file("link-then-f", "own data")  // must not write through the link
      .file("f-then-f", "old")
      .hard_link("hl", "f-then-f")
      .file("f-then-f", "new")  // unlinked, not truncated: hl keeps "old"
      .device("dev-then-fifo", '3', 1, 3)
      .device("dev-then-fifo", '6', 0, 0)
      .end();
  REQUIRE(extract(w.str(), t.path));
  CHECK(S_ISDIR(lstat_of(t.path / "f-then-dir").st_mode));
  CHECK(read_file(t.path / "f-then-dir/inside") == "1");
  CHECK(read_file(t.path / "dir-then-f") == "now a file");
  CHECK(S_ISLNK(lstat_of(t.path / "f-then-link").st_mode));
  CHECK(S_ISREG(lstat_of(t.path / "link-then-f").st_mode));
  CHECK(read_file(t.path / "link-then-f") == "own data");
  CHECK(read_file(t.path / "f-then-dir/inside") == "1");
  CHECK(read_file(t.path / "f-then-f") == "new");
  CHECK(read_file(t.path / "hl") == "old");
  CHECK(S_ISFIFO(lstat_of(t.path / "dev-then-fifo").st_mode));
}

TEST_CASE("a parent reached through a relative symlink inside the layer is followed",
          "[extractor]") {
  temp_dir t;
  tar_writer w;
  w.dir("usr/lib")
      .symlink("lib", "usr/lib")
      .file("lib/libc.so", "c")
      .dir("usr/sub")
      .symlink("usr/sub/up", "../lib")
      .file("usr/sub/up/x", "y")
      .end();
  REQUIRE(extract(w.str(), t.path));
  CHECK(read_file(t.path / "usr/lib/libc.so") == "c");
  CHECK(S_ISLNK(lstat_of(t.path / "lib").st_mode));
  CHECK(read_file(t.path / "usr/lib/x") == "y");
}

TEST_CASE("whiteouts become overlayfs whiteouts and opaque dirs", "[extractor][whiteout]") {
  temp_dir t;
  tar_header wh;
  wh.name = "etc/.wh.removed.conf";
  wh.uid = 0;
  tar_writer w;
  w.dir("etc")
      .header(wh)
      .file(".wh.toplevel", "")
      .file("var/cache/.wh..wh..opq", "")  // parents made on demand
      .dir("opaque")
      .file("opaque/.wh..wh..opq", "")
      .file("opaque/new", "n")
      .file(".wh..wh.plnk", "")  // aufs bookkeeping: skipped
      .file("x/.wh..wh.aufs", "")
      .file("replaced", "was a file")
      .file(".wh.replaced", "")
      .end();
  auto counts = extract(w.str(), t.path);
  REQUIRE(counts);
  CHECK(counts->whiteouts == 3);
  CHECK(counts->opaque_dirs == 2);
  for (const char* path : {"etc/removed.conf", "toplevel", "replaced"}) {
    INFO(path);
    auto st = lstat_of(t.path / path);
    CHECK(S_ISCHR(st.st_mode));
    CHECK(st.st_rdev == makedev(0, 0));
  }
  CHECK_FALSE(exists_nofollow(t.path / "etc/.wh.removed.conf"));
  CHECK(xattr_of(t.path / "opaque", "trusted.overlay.opaque") == "y");
  CHECK(xattr_of(t.path / "var/cache", "trusted.overlay.opaque") == "y");
  CHECK(read_file(t.path / "opaque/new") == "n");
  CHECK_FALSE(exists_nofollow(t.path / "opaque/.wh..wh..opq"));
  CHECK_FALSE(exists_nofollow(t.path / ".wh..wh.plnk"));
  CHECK_FALSE(exists_nofollow(t.path / "plnk"));
  CHECK(xattr_of(t.path, "trusted.overlay.opaque") == "<none>");

  tar_writer bad;
  bad.file("d/.wh...", "").end();
  auto r = extract(bad.str(), t.path);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(), Catch::Contains("whiteout of an invalid name"));
}

TEST_CASE("a tree archived by GNU tar comes back the same", "[extractor][interop]") {
  // Built from outside with plain syscalls, archived with GNU tar in PAX
  // (with xattrs and nanosecond times) and GNU format, extracted by us.
  temp_dir src;
  std::deque<std::string> keep;  // c_str()s stay valid
  auto p = [&](const char* rel) { return keep.emplace_back((src.path / rel).string()).c_str(); };
  auto ok = [](int rc) { REQUIRE(rc == 0); };
  std::string long_dir = std::string(60, 'L') + "/" + std::string(70, 'M');
  ok(::mkdir(p("d"), 0750));
  ok(::mkdir(p("d/sticky"), 01777));
  ok(::chmod(p("d/sticky"), 01777));
  ok(::mkdir(p("d/sgid"), 02775));
  ok(::chmod(p("d/sgid"), 02775));
  ok(::mkdir(p("dev"), 0755));
  fs::create_directories(src.path / long_dir);
  write_file(p("d/f"), "contents of f\n");
  ok(::chown(p("d/f"), 1, 2));
  write_file(p("d/suid"), std::string(1 << 20, 's'));
  ok(::chmod(p("d/suid"), 04755));
  write_file(p("empty"), "");
  write_file(src.path / long_dir / std::string(90, 'f'), "long");
  ok(::symlink("f", p("d/s")));
  ok(::lchown(p("d/s"), 5, 6));
  ok(::symlink(std::string(150, 't').c_str(), p("d/longtarget")));
  ok(::link(p("d/f"), p("d/h")));
  ok(::mknod(p("dev/null"), S_IFCHR | 0666, makedev(1, 3)));
  ok(::chmod(p("dev/null"), 0666));
  ok(::mknod(p("dev/loop0"), S_IFBLK | 0660, makedev(7, 0)));
  ok(::mkfifo(p("fifo"), 0600));
  ok(::chown(p("d"), 1000, 1000));
  ok(::setxattr(p("d/f"), "user.test", "v", 1, 0));
  ok(::setxattr(p("d/suid"), "security.capability", net_raw_cap.data(), net_raw_cap.size(), 0));
  ok(::setxattr(p("d/sticky"), "trusted.foo", "bar", 3, 0));
  // Directory times last, deepest first, with nanoseconds.
  std::vector<std::string> dirs;
  for (auto& e : fs::recursive_directory_iterator(src.path))
    if (e.is_directory() && !e.is_symlink()) dirs.push_back(e.path().string());
  std::sort(dirs.rbegin(), dirs.rend());
  dirs.push_back(src.path.string());
  long ns = 1;
  for (const auto& d : dirs) {
    timespec ts[2] = {{1'600'000'000, 0}, {1'600'000'000 + ns, ns * 1000 + 7}};
    ok(::utimensat(AT_FDCWD, d.c_str(), ts, AT_SYMLINK_NOFOLLOW));
    ++ns;
  }

  for (std::string format : {"posix", "gnu"}) {
    INFO(format);
    bool posix = format == "posix";
    temp_dir work;
    std::string archive = (work.path / "layer.tar").string();
    REQUIRE(run("tar --numeric-owner --format=" + format +
                (posix ? " --xattrs --xattrs-include='*'" : "") + " -C " + src.path.string() +
                " -cf " + archive + " .") == 0);
    temp_dir dest;
    auto counts = extract(read_file(archive), dest.path, 7);
    if (!counts) FAIL(counts.error().message());
    auto want = snapshot(src.path, !posix);
    auto got = snapshot(dest.path, !posix);
    if (!posix)  // GNU format keeps no xattrs
      for (auto& [path, n] : want) n.xattrs.clear();
    auto diff = differences(want, got);
    for (const auto& d : diff) UNSCOPED_INFO(d);
    CHECK(diff.empty());
  }
}
