// Writing a layer as an EROFS image (image/unpack/erofs_writer.hpp),
// checked against tar_extractor: each archive is extracted into a
// directory and written as an image, the image must pass fsck.erofs and,
// mounted, hold the same tree (type, mode, owner, size, mtime, bytes,
// xattrs, symlink targets, device numbers, hard links), and both must
// count the same. Needs root, and a kernel that mounts EROFS from a file
// (Linux 6.12+).

#include "image/unpack/erofs_writer.hpp"

#include <sys/mount.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <random>
#include <string>

#include "extract_support.hpp"

using namespace ringcri;
using namespace ringcri::image;
using namespace unpack_test;

namespace {

// --- the machine ------------------------------------------------------------

// Exits 77 unless fsck.erofs is there and this kernel mounts an EROFS
// image from a regular file. Only the errors that mean "cannot" skip; an
// image the kernel refuses fails the tests instead.
bool require_file_backed_erofs() {
  require_root();
  if (::access("/usr/bin/fsck.erofs", X_OK) != 0) {
    std::fprintf(stderr, "SKIP: no /usr/bin/fsck.erofs (erofs-utils)\n");
    std::_Exit(77);
  }
  temp_dir t;
  fs::path image = t.path / "probe.erofs";
  ringcri::unique_fd fd(::open(image.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  erofs_writer empty(fd.get());
  if (!fd || !empty.finish()) {
    std::fprintf(stderr, "cannot write a probe image in %s\n", t.path.c_str());
    std::_Exit(1);
  }
  ringcri::unique_fd fsfd(::fsopen("erofs", FSOPEN_CLOEXEC));
  if (!fsfd) {
    std::fprintf(stderr, "SKIP: the kernel has no EROFS (fsopen: %s)\n", std::strerror(errno));
    std::_Exit(77);
  }
  if (::fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "source", image.c_str(), 0) != 0 ||
      ::fsconfig(fsfd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    int e = errno;
    if (e == ENOTBLK) {  // the source must be a block device: no file-backed mounts
      std::fprintf(stderr,
                   "SKIP: the kernel mounts EROFS from block devices only (Linux < 6.12)\n");
      std::_Exit(77);
    }
    std::fprintf(stderr, "the kernel refuses an empty image: %s\n", std::strerror(e));
  }
  return true;
}

const bool can_mount = require_file_backed_erofs();

// The image mounted read-only on `at`, straight from the file; detached
// again however the test ends.
struct mounted_image {
  fs::path at;
  bool mounted = false;

  mounted_image(const fs::path& image, fs::path where) : at(std::move(where)) {
    fs::create_directories(at);
    auto fail = [&](const char* step) {
      throw std::runtime_error(std::string("mount ") + image.string() + ": " + step + ": " +
                               std::strerror(errno));
    };
    ringcri::unique_fd fsfd(::fsopen("erofs", FSOPEN_CLOEXEC));
    if (!fsfd) fail("fsopen");
    if (::fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "source", image.c_str(), 0) != 0)
      fail("source");
    if (::fsconfig(fsfd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) fail("create");
    ringcri::unique_fd mnt(::fsmount(fsfd.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY));
    if (!mnt) fail("fsmount");
    if (::move_mount(mnt.get(), "", AT_FDCWD, at.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
      fail("move_mount");
    mounted = true;
  }
  ~mounted_image() {
    if (mounted) ::umount2(at.c_str(), MNT_DETACH);
  }
  mounted_image(const mounted_image&) = delete;
  mounted_image& operator=(const mounted_image&) = delete;
};

// --- writing and checking ---------------------------------------------------

result<extract_counts> write_image(std::string_view archive, const fs::path& image,
                                   std::size_t chunk = 64 << 10) {
  ringcri::unique_fd fd(::open(image.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return fail_errno(errno, "create " + image.string());
  erofs_writer writer(fd.get());
  REQUIRE(writer.fs_fd() == fd.get());
  tar_reader reader(writer);
  for (std::size_t at = 0; at < archive.size(); at += chunk)
    if (auto r = reader.feed(bytes_of(archive.substr(at, chunk))); !r)
      return tl::unexpected(r.error());
  if (auto r = reader.finish(); !r) return tl::unexpected(r.error());
  if (auto r = writer.finish(); !r) return tl::unexpected(r.error());
  return writer.counts();
}

struct fsck_result {
  int status;
  std::string output;
};

// fsck.erofs: the superblock, every inode, xattr body and directory
// block from the root; with `read_data` (--extract) every file's data
// read back too.
fsck_result fsck(const fs::path& image, bool read_data = true) {
  fs::path log = image.string() + ".fsck";
  int status = run(std::string("fsck.erofs ") + (read_data ? "--extract " : "") + image.string() +
                   " > " + log.string() + " 2>&1");
  fsck_result out{status, read_file(log)};
  fs::remove(log);
  return out;
}

void check_counts(const extract_counts& want, const extract_counts& got) {
  CHECK(got.files == want.files);
  CHECK(got.directories == want.directories);
  CHECK(got.symlinks == want.symlinks);
  CHECK(got.hard_links == want.hard_links);
  CHECK(got.devices == want.devices);
  CHECK(got.whiteouts == want.whiteouts);
  CHECK(got.opaque_dirs == want.opaque_dirs);
  CHECK(got.bytes == want.bytes);
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Extracts `archive` with tar_extractor, writes it with erofs_writer and
// compares the two trees entry by entry. Directories the archive never
// lists get "now" from the extractor and the build time from the writer:
// both must lie in the time of the test, and are not compared further.
void check_same_tree(const std::string& archive, std::size_t chunk = 64 << 10) {
  temp_dir t;
  const fs::path dir = t.path / "extracted", image = t.path / "layer.erofs";
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0);  // what an image's unlisted root is
  REQUIRE(::chmod(dir.c_str(), 0755) == 0);
  const std::int64_t started = now_seconds();

  auto want_counts = extract(archive, dir, chunk);
  if (!want_counts) FAIL("extractor: " << want_counts.error().message());
  auto got_counts = write_image(archive, image, chunk);
  if (!got_counts) FAIL("erofs_writer: " << got_counts.error().message());
  check_counts(*want_counts, *got_counts);
  CHECK(fs::file_size(image) % 4096 == 0);

  auto checked = fsck(image);
  INFO(checked.output);
  REQUIRE(checked.status == 0);

  mounted_image m(image, t.path / "mnt");
  auto want = snapshot(dir);
  auto got = snapshot(m.at);
  const std::int64_t ended = now_seconds();
  for (auto& [path, n] : want) {
    if (n.type != "dir" || n.mtime_sec < started) continue;
    auto it = got.find(path);
    if (it == got.end() || it->second.type != "dir") continue;
    INFO("unlisted directory " << path);
    CHECK(it->second.mtime_sec >= started);
    CHECK(it->second.mtime_sec <= ended);
    n.mtime_sec = n.mtime_nsec = it->second.mtime_sec = it->second.mtime_nsec = 0;
  }
  auto diff = differences(want, got);
  for (const auto& d : diff) UNSCOPED_INFO(d);
  CHECK(diff.empty());
  CHECK(want.size() == got.size());
}

// --- archive material -------------------------------------------------------

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen());
  return out;
}

// security.capability v2 granting cap_net_raw, effective.
const std::string net_raw_cap(
    "\x01\x00\x00\x02"
    "\x00\x20\x00\x00"
    "\x00\x00\x00\x00"
    "\x00\x00\x00\x00"
    "\x00\x00\x00\x00",
    20);

std::string xattr_key(const std::string& name) { return "SCHILY.xattr." + name; }

// A POSIX ACL xattr value: version 2, then {tag, perm, id} entries.
std::string acl_value(std::initializer_list<std::array<std::uint32_t, 3>> entries) {
  std::string out("\x02\x00\x00\x00", 4);
  for (const auto& [tag, perm, id] : entries) {
    char e[8];
    std::uint16_t t16 = static_cast<std::uint16_t>(tag), p16 = static_cast<std::uint16_t>(perm);
    std::memcpy(e, &t16, 2);
    std::memcpy(e + 2, &p16, 2);
    std::memcpy(e + 4, &id, 4);
    out.append(e, 8);
  }
  return out;
}
constexpr std::uint32_t user_obj = 0x01, user = 0x02, group_obj = 0x04, group = 0x08, mask = 0x10,
                        other = 0x20, no_id = 0xffffffff;

}  // namespace

// --- the same tree as the extractor -----------------------------------------

TEST_CASE("files: data at block edges, modes, owners, times and long names", "[erofs]") {
  std::string name_200 = "long/" + std::string(120, 'p') + "/" + std::string(75, 'q');
  std::string gnu_name = "gnu/" + std::string(150, 'g');
  tar_writer w;
  w.dir("./", 0751, 0, 0, 1'650'000'000)
      .file("empty", "", 0600)
      .file("block", std::string(4096, 'a'), 0644, 1000, 1000)
      .file("block-and-one", random_bytes(4097, 1), 0640, 1, 2)
      .file("one", "1", 0400, 3, 4, 1'000'000'000)
      .file("suid", "x", 04755)
      .file("sgid", "y", 02711, 5, 50)
      .file("all-bits", "z", 07777)
      .dir("sticky", 01777)
      .pax({{"mtime", "1700000000.123456789"}})
      .file("nsec", "n")
      .pax({{"mtime", "1234567890.5"}, {"uid", "4000000000"}, {"gid", "70000"}})
      .file("big-ids", "ids")
      .pax({{"path", name_200}})
      .file("ignored", "long through PAX")
      .gnu_long('L', gnu_name)
      .file("ignored", "long through GNU")
      .file("random", random_bytes(3 * 1024 * 1024 + 17, 2), 0755)
      .file("after-random", random_bytes(10000, 3))
      .end();
  check_same_tree(w.str());
  check_same_tree(w.str(), 7);  // pieces of any size
}

TEST_CASE("links, devices and fifos", "[erofs]") {
  tar_header fifo;
  fifo.name = "run/fifo";
  fifo.type = '6';
  fifo.mode = 0620;
  fifo.uid = 11;
  fifo.gid = 12;
  tar_writer w;
  w.file("bin/busybox", "elf", 0755)
      .hard_link("bin/sh", "bin/busybox")
      .hard_link("usr/bin/env", "./bin/busybox")  // another directory, made on demand
      .hard_link("sbin/init", "usr/bin/env")
      .symlink("bin/ls", "busybox")
      .hard_link("ls-too", "bin/ls")       // links the symlink itself
      .hard_link("bin/sh", "bin/busybox")  // again: already that inode
      .file("empty-linked", "")
      .hard_link("empty-link", "empty-linked")
      .device("dev/null", '3', 1, 3, 0666)
      .device("dev/loop0", '4', 7, 0, 0660)
      .device("dev/big", '3', 300, 70000, 0600)
      .device("dev/suid-dev", '3', 4095, 1048575, 04640)
      .hard_link("dev/null-again", "dev/null")
      .header(fifo)
      .end();
  check_same_tree(w.str());
}

TEST_CASE("symlinks: short, long, inline and not", "[erofs]") {
  std::string target_300 =
      std::string(100, 'a') + "/" + std::string(100, 'b') + "/" + std::string(98, 'c');
  // Components a lookup can take (the tree walk stats every symlink).
  std::string target_4000;
  while (target_4000.size() < 4000) target_4000 += std::string(99, 't') + "/";
  tar_header owned;
  owned.name = "owned";
  owned.type = '2';
  owned.link = "/etc/does-not-matter";
  owned.uid = 44;
  owned.gid = 55;
  owned.mtime = 1'234'567'890;
  tar_writer w;
  w.symlink("rel", "../../x")
      .header(owned)
      .pax({{"linkpath", target_300}})
      .symlink("pax-long", "ignored")
      .gnu_long('K', target_300 + "k")
      .symlink("gnu-long", "ignored")
      .pax({{"linkpath", target_4000}})
      .symlink("fits-inline", "ignored")  // 64-byte inode + 4000 bytes: one block
      .pax({{"linkpath", target_4000}, {xattr_key("trusted.big"), std::string(200, 'x')}})
      .symlink("does-not-fit", "ignored")
      .end();
  check_same_tree(w.str());
}

TEST_CASE("paths: parents through symlinks, late directories, replacements", "[erofs]") {
  tar_writer w;
  w.dir("usr/lib")
      .symlink("lib", "usr/lib")
      .file("lib/libc.so", "c")  // lands in usr/lib
      .dir("usr/sub")
      .symlink("usr/sub/up", "../lib")
      .file("usr/sub/up/x", "y")
      .symlink("usr/sub/dot", "./../sub/.")
      .file("usr/sub/dot/z", "z")
      .dir("a/b")
      .symlink("a/b/up", "..")
      .symlink("a/up", "..")
      .symlink("a/b/top", "up/up")
      .file("a/b/top/inside", "at the root")
      // Contents first, their directories later (or never).
      .file("late/a/b", "b")
      .dir("late/a", 0700, 3, 3, 1'400'000'000)
      .dir("late", 0711, 9, 9, 1'450'000'000)
      .dir("late", 0750, 7, 8, 1'500'000'000)  // again: the last one counts
      .file("deep/er/still/f", "2")
      // A setgid directory hands its group to what mkdir makes in it.
      .dir("sg", 02775, 0, 77)
      .file("sg/made/f", "f")
      // Replacements.
      .file("f-then-dir", "x")
      .dir("f-then-dir")
      .file("f-then-dir/inside", "1")
      .dir("dir-then-f/sub/deeper")
      .file("dir-then-f/sub/deeper/x", "deep")
      .hard_link("linked-from-outside", "dir-then-f/sub/deeper/x")
      .file("dir-then-f", "now a file")
      .file("f-then-link", "x")
      .symlink("f-then-link", "target")
      .symlink("link-then-f", "f-then-dir/inside")
      .file("link-then-f", "own data")
      .file("f-then-f", "old")
      .hard_link("hl", "f-then-f")
      .file("f-then-f", "new")
      .device("dev-then-fifo", '3', 1, 3)
      .device("dev-then-fifo", '6', 0, 0)
      .symlink("link-then-dir", "usr")
      .dir("link-then-dir", 0700)
      .dir("dir-then-link/x")
      .symlink("dir-then-link", "usr")
      .end();
  check_same_tree(w.str());
}

TEST_CASE("whiteouts and opaque directories", "[erofs][whiteout]") {
  tar_header wh;
  wh.name = "etc/.wh.removed.conf";
  wh.uid = 5;
  wh.gid = 6;
  wh.mtime = 1'111'111'111;
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
      .dir("gone/with/all")
      .file("gone/with/all/f", "f")
      .file(".wh.gone", "")
      .file("./.wh..wh..opq", "")  // the root too
      .end();
  check_same_tree(w.str());
}

TEST_CASE("xattrs on every kind of entry; overlay ones dropped", "[erofs][xattr]") {
  std::string binary("\0\x01\xff\x7f zero", 9);
  tar_writer w;
  w.pax({{xattr_key("user.note"), "hi"}, {xattr_key("security.capability"), net_raw_cap}})
      .file("bin/ping", "elf", 04755, 0, 0)
      .pax({{xattr_key("security.capability"), net_raw_cap}})
      .file("bin/owned-cap", "elf", 0755, 1000, 1000)
      .pax({{xattr_key("trusted.dir"), "d"},
            {xattr_key("user.empty"), ""},
            {xattr_key("user.binary"), binary}})
      .dir("etc", 0755)
      .pax({{xattr_key("trusted.sym"), "s"}, {xattr_key("security.sym"), "t"}})
      .symlink("lnk", "etc")
      .pax({{xattr_key("trusted.dev"), "v"}})
      .device("null", '3', 1, 3)
      .pax({{xattr_key("trusted.fifo"), "f"}})
      .device("fifo", '6', 0, 0)
      .pax({{xattr_key("trusted.overlay.redirect"), "/etc"},
            {xattr_key("trusted.overlay.metacopy"), ""},
            {xattr_key("trusted.overlay.opaque"), "y"},
            {xattr_key("trusted.other"), "kept"}})
      .dir("d")
      .pax({{xattr_key("user.second"), "2"}})
      .dir("etc", 0700)  // again: its xattrs added to the ones it has
      .pax({{xattr_key("user.root"), "r"}})
      .dir(".")
      .pax({{xattr_key("trusted.big"), std::string(3000, 'B')}})
      .dir("big-xattr-dir")  // its dirents do not fit beside it
      .end();
  // Enough names that big-xattr-dir's content does not fit next to it.
  tar_writer more;
  more.raw(w.str().substr(0, w.str().size() - 1024));
  for (int i = 0; i < 200; ++i) more.file("big-xattr-dir/name-" + std::to_string(i), "");
  more.end();
  check_same_tree(more.str());
}

TEST_CASE("POSIX ACLs change modes and pass to what is made under a default ACL",
          "[erofs][xattr][acl]") {
  std::string named = acl_value({{user_obj, 7, no_id},
                                 {user, 5, 1000},
                                 {group_obj, 5, no_id},
                                 {group, 1, 2000},
                                 {mask, 7, no_id},
                                 {other, 4, no_id}});
  std::string plain = acl_value({{user_obj, 6, no_id}, {group_obj, 4, no_id}, {other, 0, no_id}});
  std::string def = acl_value({{user_obj, 7, no_id},
                               {user, 6, 1001},
                               {group_obj, 5, no_id},
                               {mask, 5, no_id},
                               {other, 1, no_id}});
  tar_writer w;
  w.pax({{xattr_key("system.posix_acl_access"), named}})
      .file("named", "n", 0600)  // mode's group bits become the mask's
      .pax({{xattr_key("system.posix_acl_access"), plain}})
      .file("plain", "p", 0777)  // the mode says it all: not kept
      .pax({{xattr_key("system.posix_acl_default"), def}})
      .dir("inherit", 0755)
      .file("inherit/f", "f", 0640)
      .dir("inherit/d", 0700)
      .file("inherit/implicit/f", "g", 0600)
      .device("inherit/dev", '3', 1, 3, 0660)
      .file("inherit/.wh.gone", "")
      .symlink("inherit/l", "f")
      .pax({{xattr_key("system.posix_acl_access"), named}})
      .dir("relisted", 0755)
      .dir("relisted", 0701)  // chmod rewrites the ACL
      .end();
  check_same_tree(w.str());
}

TEST_CASE("many names in one directory, odd bytes in names, deep nesting", "[erofs]") {
  tar_writer w;
  // 500 names: the dirents span several blocks, sorted across them.
  for (int i = 0; i < 500; ++i)
    w.file("many/" + std::string(static_cast<std::size_t>(i % 37), 'n') + std::to_string(i),
           std::to_string(i));
  // Names that sort before "." and "..", and bytes above 0x7f.
  for (std::string name : std::vector<std::string>{"-dash", "+plus", "!bang", " space", ",comma",
                                                   ".-dot-dash", ".hidden", "..two", "caf\xc3\xa9",
                                                   "\xff\xfe", "~tilde", std::string(255, 'L')})
    w.file("odd/" + name, name);
  w.dir("odd/-dir").file("odd/-dir/x", "x");
  std::string deep = "deep";
  for (int i = 0; i < 60; ++i) deep += "/level" + std::to_string(i);
  w.file(deep + "/bottom", "at the bottom");
  w.end();
  check_same_tree(w.str());
}

// --- what only the image can be checked for ---------------------------------

TEST_CASE("a layer with nothing in it is an image of an empty root", "[erofs]") {
  temp_dir t;
  const fs::path image = t.path / "empty.erofs";
  auto counts = write_image(tar_writer().end().str(), image);
  REQUIRE(counts);
  CHECK(counts->files == 0);
  CHECK(fs::file_size(image) == 2 * 4096);  // the superblock, the root inode
  auto checked = fsck(image);
  INFO(checked.output);
  CHECK(checked.status == 0);
  mounted_image m(image, t.path / "mnt");
  auto st = lstat_of(m.at);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 07777) == 0755);
  CHECK(st.st_uid == 0);
  CHECK(fs::is_empty(m.at));
  // The only file written is the image.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(t.path)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"empty.erofs", "mnt"});
}

TEST_CASE("xattrs larger than a block stay readable", "[erofs][xattr]") {
  // More than ext4 holds on one inode, so not checked against the
  // extractor: an inode whose xattrs alone pass a block.
  temp_dir t;
  const fs::path image = t.path / "layer.erofs";
  std::string a = random_bytes(2000, 4), b = random_bytes(2500, 5), c(65535, 'c');
  tar_writer w;
  w.pax({{xattr_key("user.a"), a}, {xattr_key("user.b"), b}, {xattr_key("trusted.c"), c}})
      .file("f", "data", 0644)
      .file("g", "after")
      .end();
  REQUIRE(write_image(w.str(), image));
  auto checked = fsck(image);
  INFO(checked.output);
  CHECK(checked.status == 0);
  mounted_image m(image, t.path / "mnt");
  CHECK(read_file(m.at / "f") == "data");
  CHECK(read_file(m.at / "g") == "after");
  auto xattrs = xattrs_of(m.at / "f");
  CHECK(xattrs.size() == 3);
  CHECK(xattrs["user.a"] == a);
  CHECK(xattrs["user.b"] == b);
  std::string got(65535, '\0');
  CHECK(::lgetxattr((m.at / "f").c_str(), "trusted.c", got.data(), got.size()) == 65535);
  CHECK(got == c);
}

TEST_CASE("a file of 2 GiB and one byte streams through", "[erofs][big]") {
  // Fed as tar_reader would, 1 MiB of zeros at a time: never held whole.
  temp_dir t;
  const fs::path image = t.path / "big.erofs";
  constexpr std::uint64_t size = (std::uint64_t{2} << 30) + 1;
  {
    ringcri::unique_fd fd(::open(image.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    REQUIRE(fd);
    erofs_writer writer(fd.get());
    tar_entry big;
    big.path = "big";
    big.mode = 0644;
    big.size = size;
    big.mtime_sec = 1'700'000'000;
    REQUIRE(writer.on_entry(big));
    std::vector<std::byte> zeros(1 << 20);
    zeros.back() = std::byte{'!'};  // the last byte of each MiB
    for (std::uint64_t left = size; left > 0;) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, zeros.size()));
      auto fed = writer.on_data(std::span<const std::byte>(zeros).first(n));
      if (!fed) FAIL(fed.error().message());
      left -= n;
    }
    REQUIRE(writer.on_entry_end());
    tar_entry after;
    after.path = "after";
    after.mode = 0600;
    after.size = 5;
    REQUIRE(writer.on_entry(after));
    REQUIRE(writer.on_data(bytes_of("after")));
    REQUIRE(writer.on_entry_end());
    REQUIRE(writer.finish());
    CHECK(writer.counts().bytes == size + 5);
  }
  // Its data is read through the mount below: fsck.erofs 1.5 reads a
  // file's blocks in one read(2), which stops short of 2 GiB.
  auto checked = fsck(image, false);
  INFO(checked.output);
  CHECK(checked.status == 0);
  mounted_image m(image, t.path / "mnt");
  auto st = lstat_of(m.at / "big");
  CHECK(static_cast<std::uint64_t>(st.st_size) == size);
  ringcri::unique_fd fd(::open((m.at / "big").c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd);
  char edge[3] = {};
  // Bytes around the 2 GiB mark: the end of the last whole MiB, and the
  // one byte past it.
  CHECK(::pread(fd.get(), edge, 3, static_cast<off_t>(size - 3)) == 3);
  CHECK(edge[0] == 0);
  CHECK(edge[1] == '!');
  CHECK(edge[2] == 0);
  CHECK(read_file(m.at / "after") == "after");
}

// --- refusals ---------------------------------------------------------------

namespace {

// Both refuse `archive` the same way, naming `entry`: INVALID_ARGUMENT
// unless `errno_like` (then the errno the extractor's system call gave).
void check_refused(const std::string& archive, const std::string& entry,
                   std::size_t chunk = 64 << 10, bool errno_like = false) {
  temp_dir t;
  const fs::path dir = t.path / "extracted", image = t.path / "layer.erofs";
  fs::create_directories(dir);
  auto extracted = extract(archive, dir, chunk);
  REQUIRE_FALSE(extracted);
  auto written = write_image(archive, image, chunk);
  REQUIRE_FALSE(written);
  INFO("extractor: " << extracted.error().message());
  INFO("erofs_writer: " << written.error().message());
  if (errno_like)
    CHECK(written.error().sys_errno() == extracted.error().sys_errno());
  else
    CHECK(written.error().kind() == error_kind::invalid_argument);
  CHECK(written.error().kind() == extracted.error().kind());
  CHECK_THAT(written.error().message(), Catch::Contains("\"" + entry + "\""));
  // Nothing but the image was written, and the image never got its
  // superblock: finish() was not reached.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(t.path)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"extracted", "layer.erofs"});
  std::string head = read_file(image).substr(0, 1028);
  CHECK(head.find("\xe2\xe1\xf5\xe0") == std::string::npos);
}

}  // namespace

TEST_CASE("names climbing out with .. and absolute names are refused", "[erofs][malicious]") {
  for (std::string name :
       {"../outside/pwned", "../../etc/ringcri-unpack-escape", "a/../../outside/keep",
        "./../outside/sub/also", "..", "/etc/ringcri-unpack-escape", "//x"}) {
    INFO(name);
    tar_writer w;
    w.file("ok", "1").file(name, "evil").end();
    check_refused(w.str(), name);
    tar_writer d;
    d.dir(name + "/newdir").end();
    check_refused(d.str(), name + "/newdir");
  }
  tar_writer fine;  // ".." that stays inside is only a name
  fine.file("a/../b", "ok").end();
  check_same_tree(fine.str());
}

TEST_CASE("a symlink planted earlier does not lead out", "[erofs][malicious]") {
  struct attempt {
    std::string what;
    std::function<void(tar_writer&)> entry;
    std::string name;
  };
  std::vector<attempt> attempts{
      {"file", [](tar_writer& w) { w.file("evil/keep", "overwritten"); }, "evil/keep"},
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
  };
  for (const std::string link_target : {"/tmp", "../outside", "/tmp/sub/..", "..", "a/../.."}) {
    for (const auto& [what, entry, name] : attempts) {
      INFO(what << " through evil -> " << link_target);
      tar_writer w;
      w.symlink("evil", link_target);
      entry(w);
      w.end();
      check_refused(w.str(), name, 7);
    }
  }
}

TEST_CASE("symlinks to .. chained do not lead out; loops are refused", "[erofs][malicious]") {
  tar_writer w;
  w.symlink("up", "..").file("up/outside/pwned", "x").end();
  check_refused(w.str(), "up/outside/pwned");

  tar_writer chain;
  chain.dir("a/b")
      .symlink("a/b/up", "..")
      .symlink("a/up", "..")
      .symlink("a/b/top", "up/up")
      .file("a/b/top/inside", "ok")
      .symlink("a/b/out", "top/..")
      .file("a/b/out/outside/pwned", "x")
      .end();
  check_refused(chain.str(), "a/b/out/outside/pwned", 1);

  tar_writer loop;
  loop.symlink("l1", "l2").symlink("l2", "l1").file("l1/x", "x").end();
  check_refused(loop.str(), "l1/x");

  tar_writer dangling;
  dangling.symlink("lib", "usr/lib").file("lib/x", "x").end();
  check_refused(dangling.str(), "lib/x");
}

TEST_CASE("hard links to what is not in the layer are refused", "[erofs][malicious]") {
  for (const std::string target :
       {"/etc/passwd", "../../../../../../etc/passwd", "../outside/keep", "nowhere"}) {
    INFO(target);
    tar_writer w;
    w.hard_link("passwd", target).end();
    check_refused(w.str(), "passwd");
  }
  for (std::string via : {"/etc", "../outside"}) {
    tar_writer w;
    w.symlink("etc", via).hard_link("passwd", "etc/passwd").end();
    check_refused(w.str(), "passwd");
  }
  tar_writer to_dir;
  to_dir.dir("d").hard_link("x", "d").end();
  check_refused(to_dir.str(), "x");
  tar_writer to_root;
  to_root.hard_link("x", "./").end();
  check_refused(to_root.str(), "x");
  tar_writer root_replaced;
  root_replaced.file("./", "not a dir").end();
  check_refused(root_replaced.str(), "./");
  tar_writer bad_whiteout;
  bad_whiteout.file("d/.wh...", "").end();
  check_refused(bad_whiteout.str(), "d/.wh...");
}

TEST_CASE("xattrs the file system refuses are refused alike", "[erofs][xattr]") {
  std::string bad_acl = acl_value({{user_obj, 7, no_id}, {user, 5, 1000}, {other, 4, no_id}});
  std::string def = acl_value({{user_obj, 7, no_id}, {group_obj, 5, no_id}, {other, 1, no_id}});
  struct attempt {
    std::string what, key, value;
    std::function<void(tar_writer&)> entry;
  };
  auto file = [](tar_writer& w) { w.file("target", "x"); };
  auto link = [](tar_writer& w) { w.symlink("target", "x"); };
  auto fifo = [](tar_writer& w) { w.device("target", '6', 0, 0); };
  std::vector<attempt> attempts{
      {"no known prefix", "btrfs.compression", "zstd", file},
      {"lustre", "lustre.lov", "x", file},
      {"an empty name after the prefix", "user.", "x", file},
      {"user.* on a symlink", "user.x", "x", link},
      {"user.* on a fifo", "user.x", "x", fifo},
      {"a capability of the wrong size", "security.capability", "\x01\x00\x00\x02", file},
      {"a capability of no known version", "security.capability", std::string(20, '\x07'), file},
      {"an ACL with named entries and no mask", "system.posix_acl_access", bad_acl, file},
      {"an ACL of another version", "system.posix_acl_access", "\x03" + bad_acl.substr(1), file},
      {"an ACL cut short", "system.posix_acl_access", bad_acl.substr(0, 7), file},
      {"an ACL on a symlink", "system.posix_acl_access", def, link},
      {"a default ACL on a file", "system.posix_acl_default", def, file},
  };
  for (const auto& [what, key, value, entry] : attempts) {
    INFO(what);
    tar_writer w;
    w.pax({{xattr_key(key), value}});
    entry(w);
    w.end();
    check_refused(w.str(), "target", 64 << 10, true);
  }
}

TEST_CASE("an image is finished once", "[erofs]") {
  temp_dir t;
  ringcri::unique_fd fd(::open((t.path / "x.erofs").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  erofs_writer writer(fd.get());
  REQUIRE(writer.finish());
  auto again = writer.finish();
  REQUIRE_FALSE(again);
  CHECK(again.error().kind() == error_kind::failed_precondition);
  tar_entry late;
  late.path = "late";
  CHECK_FALSE(writer.on_entry(late));
}
