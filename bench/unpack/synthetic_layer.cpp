#include "synthetic_layer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace ringcri::bench {

namespace {

void put_octal(std::string& b, std::size_t at, std::size_t width, std::uint64_t v) {
  char tmp[32];
  std::snprintf(tmp, sizeof tmp, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(v));
  std::memcpy(&b[at], tmp, width - 1);
}

void header(std::string& out, const std::string& name, char type, std::uint32_t mode,
            std::uint64_t size, const std::string& link = {}) {
  std::string b(512, '\0');
  std::memcpy(&b[0], name.data(), std::min<std::size_t>(name.size(), 100));
  put_octal(b, 100, 8, mode);
  put_octal(b, 108, 8, 0);
  put_octal(b, 116, 8, 0);
  put_octal(b, 124, 12, size);
  put_octal(b, 136, 12, 1'700'000'000);
  b[156] = type;
  std::memcpy(&b[157], link.data(), std::min<std::size_t>(link.size(), 100));
  std::memcpy(&b[257],
              "ustar\0"
              "00",
              8);
  std::memset(&b[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : b) sum += c;
  char tmp[16];
  std::snprintf(tmp, sizeof tmp, "%06o", sum);
  std::memcpy(&b[148], tmp, 7);
  out += b;
}

// Content that compresses roughly as layers do (gzip -6: ~3x, as the
// Debian image's 179 MB -> 60 MB).
void fill(std::string& out, std::size_t size, std::mt19937_64& rng) {
  static const char* words[] = {"the ", "of ",     "and ",  "config ", "return ",  "if (",
                                "int ", "static ", "void ", "struct ", "#include", "\n",
                                "    ", "usr/lib", "share", "locale",  "error: ",  "warning ",
                                "0x",   "= ",      ";\n",   "{\n",     "}\n",      "license "};
  std::size_t start = out.size();
  unsigned kind = rng() % 100;  // text, code-like binary, already compressed
  while (out.size() - start < size) {
    if (kind < 60) {
      out += words[rng() % std::size(words)];
      if (rng() % 8 == 0) out += std::to_string(rng() % 1000);
    } else if (kind < 94) {
      // Code-like: recurring instruction sequences (what LZ77 finds in
      // real binaries) with an occasional odd byte.
      static const std::vector<std::string> snippets = [] {
        std::mt19937_64 g(7);
        std::vector<std::string> v(512);
        for (auto& sn : v)
          for (std::size_t i = 4 + g() % 13; i > 0; --i) sn.push_back(static_cast<char>(g()));
        return v;
      }();
      std::size_t pick = rng() % 512;
      out += snippets[pick * pick / 512];  // skewed towards the first ones
      if (rng() % 8 == 0) out.push_back(static_cast<char>(rng()));
    } else {
      std::uint64_t r = rng();
      out.append(reinterpret_cast<const char*>(&r), 8);
    }
  }
  out.resize(start + size);
}

}  // namespace

synthetic_layer make_synthetic_layer(std::size_t target_bytes, std::uint64_t seed) {
  synthetic_layer l;
  l.tar.reserve(target_bytes + target_bytes / 20);
  std::mt19937_64 rng(seed);
  std::vector<std::string> dirs;
  header(l.tar, "./", '5', 0755, 0);
  ++l.directories;
  // Mostly small files (log-uniform 64 B .. 256 KiB, mean ~31 KB), a few
  // big ones (1-8 MiB, like shared libraries): ~30 KB per file on average.
  std::uniform_real_distribution<double> log_size(std::log(64.0), std::log(256.0 * 1024));
  std::uniform_int_distribution<std::size_t> big_size(1 << 20, 8 << 20);
  std::size_t file_no = 0;
  while (l.tar.size() < target_bytes) {
    if (dirs.empty() || rng() % 25 == 0) {
      std::string parent = dirs.empty() || rng() % 3 == 0 ? "" : dirs[rng() % dirs.size()] + "/";
      std::string dir = parent + "d" + std::to_string(dirs.size());
      if (dir.size() > 90) dir = "d" + std::to_string(dirs.size());
      dirs.push_back(dir);
      header(l.tar, dir + "/", '5', 0755, 0);
      ++l.directories;
      continue;
    }
    const std::string& dir = dirs[rng() % dirs.size()];
    std::string name = dir + "/f" + std::to_string(file_no++);
    if (rng() % 40 == 0) {
      header(l.tar, name, '2', 0777, 0, "../" + dir + "/target");
      ++l.symlinks;
      continue;
    }
    // Capped so the archive lands near the target.
    auto size =
        rng() % 1000 == 0 ? big_size(rng) : static_cast<std::size_t>(std::exp(log_size(rng)));
    size = std::min(size, target_bytes - std::min(target_bytes, l.tar.size()) + 1);
    header(l.tar, name, '0', rng() % 5 == 0 ? 0755 : 0644, size);
    fill(l.tar, size, rng);
    l.tar.append((512 - size % 512) % 512, '\0');
    ++l.files;
  }
  l.tar.append(1024, '\0');
  return l;
}

}  // namespace ringcri::bench
