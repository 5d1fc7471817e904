#pragma once
// What the image/unpack tests share: temp dirs, a tar writer that can
// write any header (well-formed or not), gzip and zstd compression, feeding
// in chunks, and snapshots of a tree read from outside
// (lstat, readlink, lgetxattr) to compare or check.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace unpack_test {

namespace fs = std::filesystem;

// A test that needs what the machine lacks exits 77 (skipped), saying why.
inline bool require_root() {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "SKIP: needs root (chown, mknod, trusted.* xattrs)\n");
    std::_Exit(77);
  }
  errno = 0;
  if (::syscall(SYS_openat2, -1, "", nullptr, 0) < 0 && errno == ENOSYS) {
    std::fprintf(stderr, "SKIP: the kernel has no openat2 (Linux >= 5.6)\n");
    std::_Exit(77);
  }
  return true;
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/ringcri-unpack-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

inline std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

inline std::string read_file(const fs::path& p) {
  std::string out;
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

inline void write_file(const fs::path& p, std::string_view data) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("open " + p.string());
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n <= 0) throw std::runtime_error("write " + p.string());
    data.remove_prefix(static_cast<size_t>(n));
  }
  ::close(fd);
}

inline int run(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

// `data` through a compressor CLI ("gzip -c -n").
inline std::string compress_with(const std::string& tool, std::string_view data) {
  temp_dir t;
  write_file(t.path / "in", data);
  if (run(tool + " < " + (t.path / "in").string() + " > " + (t.path / "out").string()) != 0)
    throw std::runtime_error(tool + " failed");
  return read_file(t.path / "out");
}
// gzip through the CLI (Essential in Debian); zstd through libzstd, which
// the unpacker links anyway (the zstd CLI is an extra package).
inline std::string gzip(std::string_view data) { return compress_with("gzip -c -n -6", data); }
inline std::string zstd(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

inline std::string sha256_hex_cli(std::string_view data) {
  temp_dir t;
  write_file(t.path / "in", data);
  FILE* p = ::popen(("sha256sum " + (t.path / "in").string()).c_str(), "r");
  char buf[65] = {};
  if (!p || std::fread(buf, 1, 64, p) != 64) throw std::runtime_error("sha256sum");
  ::pclose(p);
  return buf;
}

// Calls fn(chunk) on consecutive pieces of `data` of `size` bytes.
template <class Fn>
void in_chunks(std::string_view data, std::size_t size, Fn&& fn) {
  for (std::size_t at = 0; at < data.size(); at += size) fn(bytes_of(data.substr(at, size)));
}

// --- writing tar ------------------------------------------------------------

struct tar_header {
  std::string name;
  char type = '0';
  std::uint32_t mode = 0644;
  std::uint64_t uid = 0, gid = 0;
  std::uint64_t size = 0;
  std::int64_t mtime = 1'700'000'000;
  std::string link;
  std::uint32_t dev_major = 0, dev_minor = 0;
  std::string prefix;    // ustar only
  bool gnu = false;      // GNU magic ("ustar  ") instead of POSIX ("ustar\0" "00")
  bool base256 = false;  // numbers in GNU base-256
};

inline void put_number(std::string& b, std::size_t at, std::size_t width, std::uint64_t v,
                       bool base256) {
  if (base256) {
    for (std::size_t i = 0; i < width; ++i)
      b[at + width - 1 - i] = static_cast<char>(i < 8 ? v >> (8 * i) : 0);
    b[at] = static_cast<char>(static_cast<unsigned char>(b[at]) | 0x80);
    return;
  }
  char tmp[32];
  std::snprintf(tmp, sizeof tmp, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(v));
  std::memcpy(&b[at], tmp, width - 1);
}

inline std::string header_block(const tar_header& h) {
  std::string b(512, '\0');
  std::memcpy(&b[0], h.name.data(), std::min<std::size_t>(h.name.size(), 100));
  put_number(b, 100, 8, h.mode, false);
  put_number(b, 108, 8, h.uid, h.base256);
  put_number(b, 116, 8, h.gid, h.base256);
  put_number(b, 124, 12, h.size, h.base256);
  put_number(b, 136, 12, static_cast<std::uint64_t>(h.mtime), h.base256);
  b[156] = h.type;
  std::memcpy(&b[157], h.link.data(), std::min<std::size_t>(h.link.size(), 100));
  if (h.gnu)
    std::memcpy(&b[257], "ustar  ", 8);
  else
    std::memcpy(&b[257],
                "ustar\0"
                "00",
                8);
  put_number(b, 329, 8, h.dev_major, false);
  put_number(b, 337, 8, h.dev_minor, false);
  if (!h.gnu) std::memcpy(&b[345], h.prefix.data(), std::min<std::size_t>(h.prefix.size(), 155));
  std::memset(&b[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : b) sum += c;
  char tmp[16];
  std::snprintf(tmp, sizeof tmp, "%06o", sum);
  std::memcpy(&b[148], tmp, 7);  // six digits, NUL, and the space already there
  return b;
}

inline std::string pax_record(std::string_view key, std::string_view value) {
  std::size_t body = 1 + key.size() + 1 + value.size() + 1;  // " key=value\n"
  std::size_t len = body + 1;
  while (std::to_string(len).size() + body != len) ++len;
  return std::to_string(len) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

class tar_writer {
 public:
  tar_writer& header(const tar_header& h, std::string_view data = {}) {
    out_ += header_block(h);
    out_ += data;
    out_.append((512 - data.size() % 512) % 512, '\0');
    return *this;
  }
  tar_writer& file(std::string name, std::string_view data, std::uint32_t mode = 0644,
                   std::uint64_t uid = 0, std::uint64_t gid = 0,
                   std::int64_t mtime = 1'700'000'000) {
    tar_header h = of(std::move(name), '0', mode);
    h.uid = uid;
    h.gid = gid;
    h.size = data.size();
    h.mtime = mtime;
    return header(h, data);
  }
  tar_writer& dir(std::string name, std::uint32_t mode = 0755, std::uint64_t uid = 0,
                  std::uint64_t gid = 0, std::int64_t mtime = 1'700'000'000) {
    tar_header h = of(std::move(name), '5', mode);
    h.uid = uid;
    h.gid = gid;
    h.mtime = mtime;
    return header(h);
  }
  tar_writer& symlink(std::string name, std::string target) {
    tar_header h = of(std::move(name), '2', 0777);
    h.link = std::move(target);
    return header(h);
  }
  tar_writer& hard_link(std::string name, std::string target) {
    tar_header h = of(std::move(name), '1', 0644);
    h.link = std::move(target);
    return header(h);
  }
  tar_writer& device(std::string name, char type, std::uint32_t major, std::uint32_t minor,
                     std::uint32_t mode = 0600) {
    tar_header h = of(std::move(name), type, mode);
    h.dev_major = major;
    h.dev_minor = minor;
    return header(h);
  }
  // A PAX 'x' header applying `records` to the next entry.
  tar_writer& pax(const std::vector<std::pair<std::string, std::string>>& records,
                  char type = 'x') {
    std::string data;
    for (const auto& [k, v] : records) data += pax_record(k, v);
    tar_header h = of("PaxHeaders/x", type, 0644);
    h.size = data.size();
    return header(h, data);
  }
  // A GNU 'L' (name) or 'K' (link) header for the next entry.
  tar_writer& gnu_long(char type, std::string_view value) {
    std::string data(value);
    data.push_back('\0');
    tar_header h = of("././@LongLink", type, 0644);
    h.size = data.size();
    h.gnu = true;
    return header(h, data);
  }
  tar_writer& raw(std::string_view bytes) {
    out_ += bytes;
    return *this;
  }
  tar_writer& end() {
    out_.append(1024, '\0');
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  static tar_header of(std::string name, char type, std::uint32_t mode) {
    tar_header h;
    h.name = std::move(name);
    h.type = type;
    h.mode = mode;
    return h;
  }
  std::string out_;
};

// --- reading a tree from outside --------------------------------------------

struct node {
  std::string type;  // file, dir, symlink, char, block, fifo, socket
  std::uint32_t mode = 0;
  std::uint32_t uid = 0, gid = 0;
  std::int64_t mtime_sec = 0;
  long mtime_nsec = 0;
  std::uint64_t size = 0;
  std::string content;  // a file's bytes, or a symlink's target
  std::uint32_t rdev_major = 0, rdev_minor = 0;
  std::string link_group;  // for files with several names: the first name, sorted
  std::map<std::string, std::string> xattrs;

  friend bool operator==(const node&, const node&) = default;
};

inline std::string describe(const std::string& path, const node& n) {
  std::ostringstream o;
  o << path << ": " << n.type << " mode=" << std::oct << n.mode << std::dec << " uid=" << n.uid
    << " gid=" << n.gid << " mtime=" << n.mtime_sec << "." << n.mtime_nsec << " size=" << n.size
    << " rdev=" << n.rdev_major << ":" << n.rdev_minor << " links=" << n.link_group
    << " content=" << (n.content.size() > 40 ? n.content.substr(0, 40) + "..." : n.content);
  for (const auto& [k, v] : n.xattrs) o << " " << k << "=" << v;
  return o.str();
}

inline std::map<std::string, std::string> xattrs_of(const fs::path& p) {
  std::map<std::string, std::string> out;
  char names[8192];
  ssize_t n = ::llistxattr(p.c_str(), names, sizeof names);
  for (ssize_t at = 0; n > 0 && at < n; at += static_cast<ssize_t>(std::strlen(names + at)) + 1) {
    std::string name(names + at);
    char value[8192];
    ssize_t len = ::lgetxattr(p.c_str(), name.c_str(), value, sizeof value);
    out[name] = std::string(value, len > 0 ? static_cast<size_t>(len) : 0);
  }
  return out;
}

inline node node_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("lstat " + p.string());
  node n;
  n.type = S_ISREG(st.st_mode)    ? "file"
           : S_ISDIR(st.st_mode)  ? "dir"
           : S_ISLNK(st.st_mode)  ? "symlink"
           : S_ISCHR(st.st_mode)  ? "char"
           : S_ISBLK(st.st_mode)  ? "block"
           : S_ISFIFO(st.st_mode) ? "fifo"
                                  : "other";
  n.mode = st.st_mode & 07777;
  n.uid = st.st_uid;
  n.gid = st.st_gid;
  n.mtime_sec = st.st_mtim.tv_sec;
  n.mtime_nsec = st.st_mtim.tv_nsec;
  if (S_ISREG(st.st_mode)) {
    n.size = static_cast<std::uint64_t>(st.st_size);
    n.content = read_file(p);
  }
  if (S_ISLNK(st.st_mode)) {
    n.mode = 0;  // not meaningful on Linux
    char buf[4096];
    ssize_t len = ::readlink(p.c_str(), buf, sizeof buf);
    n.content.assign(buf, len > 0 ? static_cast<size_t>(len) : 0);
  }
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    n.rdev_major = major(st.st_rdev);
    n.rdev_minor = minor(st.st_rdev);
  }
  n.xattrs = xattrs_of(p);
  return n;
}

// Every node under `root` ("." for the root itself), with hard links
// grouped; `mtime_seconds_only` for comparing with formats that keep no
// fractions.
inline std::map<std::string, node> snapshot(const fs::path& root, bool mtime_seconds_only = false,
                                            bool skip_dir_mtimes = false) {
  std::map<std::string, node> out;
  std::map<std::pair<dev_t, ino_t>, std::string> first_name;
  out["."] = node_of(root);
  std::vector<std::string> paths;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it)
    paths.push_back(fs::relative(it->path(), root).string());
  std::sort(paths.begin(), paths.end());
  for (const auto& rel : paths) {
    node n = node_of(root / rel);
    struct stat st {};
    ::lstat((root / rel).c_str(), &st);
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, fresh] = first_name.emplace(std::pair{st.st_dev, st.st_ino}, rel);
      n.link_group = it->second;
    }
    out[rel] = std::move(n);
  }
  for (auto& [path, n] : out) {
    if (mtime_seconds_only) n.mtime_nsec = 0;
    if (skip_dir_mtimes && n.type == "dir") n.mtime_sec = n.mtime_nsec = 0;
  }
  return out;
}

// Lines naming what differs between two snapshots (empty if none).
inline std::vector<std::string> differences(const std::map<std::string, node>& want,
                                            const std::map<std::string, node>& got) {
  std::vector<std::string> out;
  for (const auto& [path, n] : want) {
    auto it = got.find(path);
    if (it == got.end())
      out.push_back("missing " + describe(path, n));
    else if (!(it->second == n))
      out.push_back("want " + describe(path, n) + "\n  got " + describe(path, it->second));
  }
  for (const auto& [path, n] : got)
    if (!want.count(path)) out.push_back("extra " + describe(path, n));
  return out;
}

}  // namespace unpack_test
