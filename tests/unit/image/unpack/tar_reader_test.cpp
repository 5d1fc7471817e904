// The streaming tar parser (image/unpack/tar_reader.hpp), on archives
// written here header by header and by Python's tarfile and GNU tar.

#include "image/unpack/tar_reader.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "unpack_support.hpp"

using namespace ringcri;
using namespace ringcri::image;
using namespace unpack_test;

namespace {

struct seen_entry {
  tar_entry entry;
  std::string data;
  bool ended = false;
};

class recorder final : public tar_visitor {
 public:
  result<void> on_entry(const tar_entry& e) override {
    if (!entries.empty()) REQUIRE(entries.back().ended);
    entries.push_back({e, {}, false});
    return {};
  }
  result<void> on_data(std::span<const std::byte> piece) override {
    REQUIRE(!entries.empty());
    REQUIRE_FALSE(entries.back().ended);
    entries.back().data.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    return {};
  }
  result<void> on_entry_end() override {
    REQUIRE(!entries.empty());
    entries.back().ended = true;
    REQUIRE(entries.back().data.size() == entries.back().entry.size);
    return {};
  }
  std::vector<seen_entry> entries;
};

struct parsed {
  std::vector<seen_entry> entries;
  result<void> status;
  bool ended = false;
};

parsed parse(std::string_view archive, std::size_t chunk = 64 << 10) {
  recorder r;
  tar_reader reader(r);
  result<void> status;
  for (std::size_t at = 0; at < archive.size() && status; at += chunk)
    status = reader.feed(bytes_of(archive.substr(at, chunk)));
  if (status) status = reader.finish();
  return {std::move(r.entries), std::move(status), reader.ended()};
}

// One line per entry, to compare parses.
std::string summary(const std::vector<seen_entry>& entries) {
  std::ostringstream o;
  for (const auto& s : entries) {
    const auto& e = s.entry;
    o << to_string(e.type) << " " << e.path << " -> " << e.link_target << " mode=" << std::oct
      << e.mode << std::dec << " " << e.uid << ":" << e.gid << " t=" << e.mtime_sec << "."
      << e.mtime_nsec << " dev=" << e.dev_major << ":" << e.dev_minor << " size=" << e.size
      << " data=" << s.data.size() << "/" << std::hash<std::string>{}(s.data);
    for (const auto& [k, v] : e.xattrs) o << " " << k << "=" << v.size();
    o << "\n";
  }
  return o.str();
}

std::string long_name(std::size_t size, char c = 'n') {
  std::string out;
  while (out.size() < size) out += std::string(20, c) + "/";
  out.resize(size);
  return out;
}

}  // namespace

TEST_CASE("ustar entries of every type come out with their fields", "[tar_reader]") {
  std::string big(70'000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  tar_writer w;
  w.dir("etc/", 0755, 0, 0, 1'600'000'000)
      .file("etc/passwd", "root:x:0:0\n", 0644, 0, 0, 1'650'000'000)
      .file("bin/su", big, 04755, 1000, 1001)
      .file("empty", "")
      .symlink("bin/sh", "/bin/bash")
      .hard_link("bin/su2", "bin/su")
      .device("dev/null", '3', 1, 3, 0666)
      .device("dev/sda", '4', 8, 0, 0660)
      .device("run/fifo", '6', 0, 0, 0600)
      .end();
  auto p = parse(w.str());
  REQUIRE(p.status);
  CHECK(p.ended);
  REQUIRE(p.entries.size() == 9);
  const auto& e = p.entries;
  CHECK(e[0].entry.type == tar_entry_type::directory);
  CHECK(e[0].entry.path == "etc/");
  CHECK(e[0].entry.mtime_sec == 1'600'000'000);
  CHECK(e[1].entry.path == "etc/passwd");
  CHECK(e[1].data == "root:x:0:0\n");
  CHECK(e[1].entry.mode == 0644);
  CHECK(e[2].entry.mode == 04755);
  CHECK(e[2].entry.uid == 1000);
  CHECK(e[2].entry.gid == 1001);
  CHECK(e[2].data == big);
  CHECK(e[3].entry.size == 0);
  CHECK(e[3].data.empty());
  CHECK(e[4].entry.type == tar_entry_type::symlink);
  CHECK(e[4].entry.link_target == "/bin/bash");
  CHECK(e[5].entry.type == tar_entry_type::hard_link);
  CHECK(e[5].entry.link_target == "bin/su");
  CHECK(e[6].entry.type == tar_entry_type::char_device);
  CHECK(e[6].entry.dev_major == 1);
  CHECK(e[6].entry.dev_minor == 3);
  CHECK(e[7].entry.type == tar_entry_type::block_device);
  CHECK(e[7].entry.dev_major == 8);
  CHECK(e[8].entry.type == tar_entry_type::fifo);
}

TEST_CASE("the parse is the same in 1-byte, 7-byte and 64 KiB pieces", "[tar_reader]") {
  tar_writer w;
  w.pax({{"path", long_name(300)}, {"SCHILY.xattr.user.k", "v"}})
      .file("short", std::string(1000, 'p'))
      .gnu_long('L', long_name(200, 'g'))
      .file("x", std::string(513, 'q'))
      .file("y", std::string(512, 'r'))
      .end();
  auto whole = parse(w.str(), w.str().size());
  REQUIRE(whole.status);
  REQUIRE(whole.entries.size() == 3);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{64} << 10}) {
    INFO("chunk " << chunk);
    auto p = parse(w.str(), chunk);
    REQUIRE(p.status);
    CHECK(summary(p.entries) == summary(whole.entries));
  }
}

TEST_CASE("ustar prefix and name are joined", "[tar_reader]") {
  tar_header h;
  h.name = "file.txt";
  h.prefix = long_name(120, 'p');
  h.size = 3;
  tar_writer w;
  w.header(h, "abc").end();
  auto p = parse(w.str());
  REQUIRE(p.status);
  CHECK(p.entries.at(0).entry.path == h.prefix + "/file.txt");
}

TEST_CASE("GNU long names and long link targets", "[tar_reader]") {
  std::string name = long_name(250, 'a'), target = long_name(180, 'b');
  tar_writer w;
  w.gnu_long('L', name).gnu_long('K', target).symlink("trunc", "trunc").end();
  auto p = parse(w.str(), 7);
  REQUIRE(p.status);
  REQUIRE(p.entries.size() == 1);
  CHECK(p.entries[0].entry.path == name);
  CHECK(p.entries[0].entry.link_target == target);
}

TEST_CASE("PAX records override the header", "[tar_reader]") {
  std::string name = long_name(400, 'c');
  std::string binary("\0\x01=\n\xff", 5);
  tar_writer w;
  w.pax({{"path", name},
         {"uid", "3000000"},
         {"gid", "4000000"},
         {"mtime", "1700000000.123456789123"},
         {"uname", "someone"},
         {"atime", "1.5"},
         {"SCHILY.xattr.user.bin", binary},
         {"SCHILY.xattr.security.capability", std::string("\x01\x00\x00\x02", 4)},
         {"SCHILY.xattr.user.empty", ""},
         {"LIBARCHIVE.creationtime", "1"}})
      .file("short-name", "data")
      .pax({{"linkpath", long_name(150, 'd')}, {"mtime", "-1.25"}})
      .symlink("s", "t")
      .end();
  auto p = parse(w.str(), 1);
  REQUIRE(p.status);
  REQUIRE(p.entries.size() == 2);
  const auto& f = p.entries[0].entry;
  CHECK(f.path == name);
  CHECK(f.uid == 3'000'000);
  CHECK(f.gid == 4'000'000);
  CHECK(f.mtime_sec == 1'700'000'000);
  CHECK(f.mtime_nsec == 123'456'789);
  REQUIRE(f.xattrs.size() == 3);
  CHECK(f.xattrs[0] == std::pair<std::string, std::string>{"user.bin", binary});
  CHECK(f.xattrs[1].first == "security.capability");
  CHECK(f.xattrs[2] == std::pair<std::string, std::string>{"user.empty", ""});
  const auto& s = p.entries[1].entry;
  CHECK(s.path == "s");
  CHECK(s.link_target == long_name(150, 'd'));
  CHECK(s.mtime_sec == -2);
  CHECK(s.mtime_nsec == 750'000'000);
  CHECK(s.xattrs.empty());  // records apply to one entry only
}

// Regression (pax-xattr-unbounded): xattrs of consecutive PAX headers were
// merged into one entry without bound, so a run of 1 MiB headers could pile
// up any amount in memory before the entry came.
TEST_CASE("pax-xattr-unbounded: a later PAX header's xattrs replace an earlier one's",
          "[tar_reader]") {
  const std::string value(300 << 10, 'v');
  tar_writer w;
  for (int header = 0; header < 4; ++header) {
    std::vector<std::pair<std::string, std::string>> records;
    for (int i = 0; i < 3; ++i)
      records.emplace_back(fmt::format("SCHILY.xattr.user.h{}-{}", header, i), value);
    w.pax(records);
  }
  w.file("f", "data").end();
  auto p = parse(w.str(), 4096);
  REQUIRE(p.status);
  REQUIRE(p.entries.size() == 1);
  const auto& xattrs = p.entries[0].entry.xattrs;
  REQUIRE(xattrs.size() == 3);
  CHECK(xattrs[0].first == "user.h3-0");
  CHECK(xattrs[1].first == "user.h3-1");
  CHECK(xattrs[2].first == "user.h3-2");
  CHECK(xattrs[2].second == value);
}

TEST_CASE("a name repeated in one PAX header keeps its place and takes the last value",
          "[tar_reader]") {
  tar_writer w;
  w.pax({{"SCHILY.xattr.user.a", "1"}, {"SCHILY.xattr.user.b", "2"}, {"SCHILY.xattr.user.a", "3"}})
      .file("f", "")
      .end();
  auto p = parse(w.str());
  REQUIRE(p.status);
  REQUIRE(p.entries.size() == 1);
  using xattr = std::pair<std::string, std::string>;
  CHECK(p.entries[0].entry.xattrs == std::vector<xattr>{{"user.a", "3"}, {"user.b", "2"}});
}

TEST_CASE("a PAX size carries data the header's size field cannot", "[tar_reader]") {
  std::string data(1500, 'z');
  tar_header h;
  h.name = "f";
  h.size = 0;  // as a writer does when the real size does not fit
  std::string block = header_block(h);
  tar_writer w;
  w.pax({{"size", "1500"}}).raw(block).raw(data).raw(std::string(548, '\0')).end();
  auto p = parse(w.str(), 7);
  REQUIRE(p.status);
  REQUIRE(p.entries.size() == 1);
  CHECK(p.entries[0].data == data);
}

TEST_CASE("global PAX headers are ignored", "[tar_reader]") {
  tar_writer w;
  w.pax({{"path", "global-path"}, {"uid", "5"}}, 'g').file("f", "1").end();
  auto p = parse(w.str());
  REQUIRE(p.status);
  REQUIRE(p.entries.size() == 1);
  CHECK(p.entries[0].entry.path == "f");
  CHECK(p.entries[0].entry.uid == 0);
}

TEST_CASE("GNU base-256 numbers", "[tar_reader]") {
  tar_header h;
  h.name = "big-ids";
  h.uid = 0x7654321;  // more than 7 octal digits hold
  h.gid = 0x1234567;
  h.size = 5;
  h.mtime = 1'700'000'000;
  h.gnu = true;
  h.base256 = true;
  tar_writer w;
  w.header(h, "hello").end();
  auto p = parse(w.str());
  if (!p.status) FAIL(p.status.error().message());
  CHECK(p.entries.at(0).entry.uid == 0x7654321);
  CHECK(p.entries.at(0).entry.gid == 0x1234567);
  CHECK(p.entries.at(0).data == "hello");
  CHECK(p.entries.at(0).entry.mtime_sec == 1'700'000'000);
}

TEST_CASE("old-style entries: NUL type and a trailing slash make a directory", "[tar_reader]") {
  tar_header h;
  h.name = "olddir/";
  h.type = '\0';
  tar_header f;
  f.name = "oldfile";
  f.type = '\0';
  f.size = 2;
  tar_writer w;
  w.header(h).header(f, "ok").end();
  auto p = parse(w.str());
  REQUIRE(p.status);
  CHECK(p.entries.at(0).entry.type == tar_entry_type::directory);
  CHECK(p.entries.at(1).entry.type == tar_entry_type::regular);
  CHECK(p.entries.at(1).data == "ok");
}

TEST_CASE("links, directories, devices and fifos carry no data whatever their size says",
          "[tar_reader]") {
  tar_header h;
  h.name = "link";
  h.type = '1';
  h.link = "target";
  h.size = 1234;  // some writers repeat the target's size here
  tar_writer w;
  w.file("target", "abc").header(h).file("after", "def").end();
  auto p = parse(w.str());
  REQUIRE(p.status);
  REQUIRE(p.entries.size() == 3);
  CHECK(p.entries[1].entry.size == 0);
  CHECK(p.entries[2].entry.path == "after");
  CHECK(p.entries[2].data == "def");
}

TEST_CASE("the archive may end without zero blocks; bytes after them are ignored", "[tar_reader]") {
  tar_writer w;
  w.file("a", "1");
  auto bare = parse(w.str());
  REQUIRE(bare.status);
  CHECK(bare.entries.size() == 1);
  CHECK_FALSE(bare.ended);

  tar_writer padded;
  padded.file("a", "1").end().raw(std::string(9 * 1024, '\0')).raw("trailing junk");
  auto p = parse(padded.str(), 100);
  REQUIRE(p.status);
  CHECK(p.ended);
  CHECK(p.entries.size() == 1);

  tar_writer one_zero;
  one_zero.file("a", "1").raw(std::string(512, '\0'));
  CHECK(parse(one_zero.str()).status);
}

TEST_CASE("malformed archives are refused with where and why", "[tar_reader]") {
  SECTION("checksum") {
    tar_writer w;
    w.file("a", "1").file("b", "2").end();
    std::string bad = w.str();
    bad[1024 + 10] ^= 1;  // inside the name of the second header
    auto p = parse(bad);
    REQUIRE_FALSE(p.status);
    CHECK(p.status.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(p.status.error().message(),
               Catch::Equals("tar header at byte 1024: checksum mismatch (not a tar archive, or "
                             "a corrupt one)"));
  }
  SECTION("not a tar at all") {
    auto p = parse(std::string(2048, 'x'));
    REQUIRE_FALSE(p.status);
    CHECK_THAT(p.status.error().message(), Catch::Contains("checksum mismatch"));
  }
  SECTION("a header after a single zero block") {
    tar_writer w;
    w.file("a", "1").raw(std::string(512, '\0')).file("b", "2").end();
    auto p = parse(w.str());
    REQUIRE_FALSE(p.status);
    CHECK_THAT(p.status.error().message(), Catch::Contains("after a single zero block"));
  }
  SECTION("sparse files") {
    tar_header h;
    h.name = "sparse";
    h.type = 'S';
    h.gnu = true;
    tar_writer w;
    w.header(h).end();
    CHECK_THAT(parse(w.str()).status.error().message(), Catch::Contains("sparse"));
    tar_writer pax;
    pax.pax({{"GNU.sparse.major", "1"}}).file("f", "").end();
    CHECK_THAT(parse(pax.str()).status.error().message(), Catch::Contains("sparse"));
  }
  SECTION("an unknown entry type") {
    tar_header h;
    h.name = "weird";
    h.type = 'Z';
    tar_writer w;
    w.header(h).end();
    CHECK_THAT(parse(w.str()).status.error().message(),
               Catch::Contains("unsupported entry type 'Z' for weird"));
  }
  SECTION("an oversized extended header") {
    tar_header h;
    h.name = "PaxHeaders/x";
    h.type = 'x';
    h.size = (1 << 20) + 1;
    tar_writer w;
    w.raw(header_block(h));
    CHECK_THAT(parse(w.str()).status.error().message(), Catch::Contains("limit"));
  }
  SECTION("a malformed PAX record") {
    for (std::string records :
         {"5 a=b\n", "99 path=x\n", "10 path=x!", "x path=y\n", "8 path\n\n"}) {
      INFO(records);
      tar_header h;
      h.name = "PaxHeaders/x";
      h.type = 'x';
      h.size = records.size();
      tar_writer w;
      w.header(h, records).file("f", "").end();
      auto p = parse(w.str());
      REQUIRE_FALSE(p.status);
      CHECK_THAT(p.status.error().message(), Catch::Contains("PAX header"));
    }
  }
  SECTION("an invalid numeric field") {
    tar_writer w;
    w.file("a", "1");
    std::string bad = w.str();
    bad[100] = '9';  // mode: not octal
    unsigned sum = 0;
    std::memset(&bad[148], ' ', 8);
    for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(bad[i]);
    std::snprintf(&bad[148], 8, "%06o", sum);
    CHECK_THAT(parse(bad).status.error().message(), Catch::Contains("invalid mode"));
  }
}

TEST_CASE("a truncated archive is refused at finish", "[tar_reader]") {
  tar_writer w;
  w.file("first", "1").file("data-file", std::string(2000, 'd')).end();
  const std::string& full = w.str();
  struct cut {
    std::size_t keep;
    std::string says;
  };
  for (const auto& [keep, says] : std::vector<cut>{
           {1024 + 100, "ends inside the header at byte 1024"},
           {1024 + 512 + 100, "ends inside the data of data-file (1900 bytes missing)"},
           {1024 + 512 + 2010, "ends inside the padding"},
       }) {
    INFO(keep);
    auto p = parse(std::string_view(full).substr(0, keep), 7);
    REQUIRE_FALSE(p.status);
    CHECK(p.status.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(p.status.error().message(), Catch::Contains(says));
  }
  tar_writer ext;
  ext.pax({{"path", "p"}});
  auto p = parse(ext.str());
  REQUIRE_FALSE(p.status);
  CHECK_THAT(p.status.error().message(), Catch::Contains("after an extended header"));
}

TEST_CASE("an error from the visitor stops the reader", "[tar_reader]") {
  struct refusing final : tar_visitor {
    result<void> on_entry(const tar_entry& e) override {
      if (e.path == "bad") return fail(error_kind::invalid_argument, "no thanks");
      return {};
    }
    result<void> on_data(std::span<const std::byte>) override { return {}; }
    result<void> on_entry_end() override { return {}; }
  } v;
  tar_writer w;
  w.file("good", "1").file("bad", "2").file("never", "3").end();
  tar_reader reader(v);
  auto r = reader.feed(bytes_of(w.str()));
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "no thanks");
  CHECK(reader.entries() == 2);
}

TEST_CASE("archives written by Python's tarfile (GNU and PAX) parse", "[tar_reader][interop]") {
  temp_dir t;
  std::string name = long_name(180, 'y');
  for (std::string format : {"GNU_FORMAT", "PAX_FORMAT", "USTAR_FORMAT"}) {
    INFO(format);
    std::string script =
        "import tarfile, io\n"
        "t = tarfile.open('" +
        (t.path / "a.tar").string() + "', 'w', format=tarfile." + format +
        ")\n"
        "def add(name, type=tarfile.REGTYPE, data=b'', **kw):\n"
        "    i = tarfile.TarInfo(name); i.type = type; i.size = len(data)\n"
        "    i.mtime = 1700000000; i.mode = kw.get('mode', 0o644)\n"
        "    i.uid = kw.get('uid', 0); i.gid = kw.get('gid', 0)\n"
        "    i.linkname = kw.get('link', ''); i.devmajor = kw.get('major', 0); i.devminor = "
        "kw.get('minor', 0)\n"
        "    t.addfile(i, io.BytesIO(data))\n"
        "add('dir', tarfile.DIRTYPE, mode=0o750)\n"
        "add('dir/file', data=b'hello' * 300, mode=0o4711, uid=12, gid=34)\n"
        "add('dir/link', tarfile.SYMTYPE, link='file')\n"
        "add('dir/hard', tarfile.LNKTYPE, link='dir/file')\n"
        "add('dev', tarfile.CHRTYPE, major=1, minor=5)\n"
        "add('fifo', tarfile.FIFOTYPE)\n" +
        (format != "USTAR_FORMAT" ? "add('" + name + "', data=b'long')\n" : "") + "t.close()\n";
    write_file(t.path / "make.py", script);
    REQUIRE(run("python3 " + (t.path / "make.py").string()) == 0);
    std::string archive = read_file(t.path / "a.tar");
    auto p = parse(archive, 7);
    REQUIRE(p.status);
    REQUIRE(p.entries.size() == (format != "USTAR_FORMAT" ? 7u : 6u));
    CHECK(p.entries[0].entry.type == tar_entry_type::directory);
    CHECK(p.entries[0].entry.mode == 0750);
    CHECK(p.entries[1].entry.mode == 04711);
    CHECK(p.entries[1].entry.uid == 12);
    CHECK(p.entries[1].data.size() == 1500);
    CHECK(p.entries[2].entry.link_target == "file");
    CHECK(p.entries[3].entry.type == tar_entry_type::hard_link);
    CHECK(p.entries[4].entry.dev_minor == 5);
    CHECK(p.entries[5].entry.type == tar_entry_type::fifo);
    if (format != "USTAR_FORMAT") {
      CHECK(p.entries[6].entry.path == name);
      CHECK(p.entries[6].data == "long");
    }
  }
}
