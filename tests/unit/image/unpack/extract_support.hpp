#pragma once
// Extracting an in-memory tar into a directory through tar_reader and
// tar_extractor, for the extractor and malicious-layer tests.

#include <fcntl.h>

#include <string_view>

#include "image/unpack/tar_extractor.hpp"
#include "image/unpack/tar_reader.hpp"
#include "base/unique_fd.hpp"
#include "unpack_support.hpp"

namespace unpack_test {

inline ringcri::result<ringcri::image::extract_counts> extract(std::string_view archive,
                                                               const fs::path& root,
                                                               std::size_t chunk = 64 << 10) {
  using namespace ringcri;
  ringcri::unique_fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, "open " + root.string());
  image::tar_extractor extractor(fd.get());
  image::tar_reader reader(extractor);
  for (std::size_t at = 0; at < archive.size(); at += chunk)
    if (auto r = reader.feed(bytes_of(archive.substr(at, chunk))); !r)
      return tl::unexpected(r.error());
  if (auto r = reader.finish(); !r) return tl::unexpected(r.error());
  if (auto r = extractor.finish(); !r) return tl::unexpected(r.error());
  return extractor.counts();
}

inline struct stat lstat_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("lstat " + p.string());
  return st;
}

inline bool exists_nofollow(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

inline std::string xattr_of(const fs::path& p, const std::string& name) {
  char buf[4096];
  ssize_t n = ::lgetxattr(p.c_str(), name.c_str(), buf, sizeof buf);
  return n < 0 ? std::string("<none>") : std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace unpack_test
