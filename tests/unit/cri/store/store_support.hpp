#pragma once
// What the store tests share: a fresh directory, plain reads of what is on
// disk (from outside the store: the files and the journal), and
// self-checking record contents.

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cri/store/journal_format.hpp"

namespace store_test {

namespace fs = std::filesystem;

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/ringcri-store-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

// The file's bytes, or nullopt when it cannot be opened.
inline std::optional<std::string> slurp(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[16384];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

// The journal's entries not yet applied, from both of its files, the
// older generation first, as open() reads them after a crash.
inline std::vector<ringcri::cri::store::journal_entry> journal_entries(const fs::path& dir) {
  std::vector<std::pair<std::uint64_t, std::vector<ringcri::cri::store::journal_entry>>> files;
  for (const char* name : {"journal.0", "journal.1"}) {
    auto bytes = slurp(dir / name);
    auto contents = bytes ? ringcri::cri::store::decode_journal(*bytes) : std::nullopt;
    if (contents) files.emplace_back(contents->generation, std::move(contents->entries));
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ringcri::cri::store::journal_entry> out;
  for (auto& [generation, entries] : files)
    for (auto& e : entries) out.push_back(std::move(e));
  return out;
}

// What a store in `dir` holds durably for `kind`/`id`, read from outside
// it as open() would after a crash: the record file, brought up to date by
// the journal's entries (nullopt: no record).
inline std::optional<std::string> durable(const fs::path& dir, std::string_view kind, std::string_view id) {
  auto bytes = slurp(dir / kind / id);
  for (const auto& e : journal_entries(dir)) {
    if (e.kind != kind || e.id != id) continue;
    if (e.op == ringcri::cri::store::journal_op::put)
      bytes = e.bytes;
    else
      bytes.reset();
  }
  return bytes;
}

// The journal's entries for `kind`/`id` not yet applied.
inline std::size_t journal_entries_of(const fs::path& dir, std::string_view kind, std::string_view id) {
  auto entries = journal_entries(dir);
  return static_cast<std::size_t>(
      std::count_if(entries.begin(), entries.end(), [&](const auto& e) { return e.kind == kind && e.id == id; }));
}

// Names in `dir`, sorted.
inline std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

inline std::size_t temp_files_in(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& name : names_in(dir))
    if (name.starts_with('.') && name.find(".tmp-") != std::string::npos) ++n;
  return n;
}

// FNV-1a, 64 bits: enough to tell a torn or mixed record from a whole one.
inline std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// A record that checks itself:
//   "key=<key> version=<v> length=<n>\n" <n payload bytes> <16 hex digits of
//   the FNV-1a of everything before them>
inline std::string make_sample(std::string_view key, std::uint64_t version, std::size_t payload,
                               std::mt19937_64& rng) {
  std::string out = "key=" + std::string(key) + " version=" + std::to_string(version) +
                    " length=" + std::to_string(payload) + "\n";
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t i = 0; i < payload; ++i) out.push_back(static_cast<char>(byte(rng)));
  char sum[17];
  std::snprintf(sum, sizeof sum, "%016llx", static_cast<unsigned long long>(fnv1a(out)));
  out.append(sum, 16);
  return out;
}

struct sample {
  std::string key;
  std::uint64_t version = 0;
};

// The key and version of a whole record; nullopt if torn or corrupt.
inline std::optional<sample> check_sample(std::string_view bytes) {
  auto eol = bytes.find('\n');
  if (eol == std::string_view::npos) return std::nullopt;
  std::string_view head = bytes.substr(0, eol);
  auto field = [&](std::string_view name) -> std::optional<std::string_view> {
    auto at = head.find(name);
    if (at == std::string_view::npos) return std::nullopt;
    auto v = head.substr(at + name.size());
    return v.substr(0, v.find(' '));
  };
  auto key = field("key="), version = field(" version="), length = field(" length=");
  if (!key || !version || !length) return std::nullopt;
  std::uint64_t v = 0, n = 0;
  if (std::from_chars(version->data(), version->data() + version->size(), v).ec != std::errc{})
    return std::nullopt;
  if (std::from_chars(length->data(), length->data() + length->size(), n).ec != std::errc{})
    return std::nullopt;
  if (bytes.size() != eol + 1 + n + 16) return std::nullopt;
  char sum[17];
  std::snprintf(sum, sizeof sum, "%016llx",
                static_cast<unsigned long long>(fnv1a(bytes.substr(0, bytes.size() - 16))));
  if (bytes.substr(bytes.size() - 16) != std::string_view(sum, 16)) return std::nullopt;
  return sample{std::string(*key), v};
}

}  // namespace store_test
