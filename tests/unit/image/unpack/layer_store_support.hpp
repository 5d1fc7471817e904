#pragma once
// What the layer store tests share: small gzip layers, a pull into a store
// (begin, unpack, check the diff_id, commit), listing a directory, and
// the mounts an EROFS store leaves under a test's temp dir.

#include <sys/mount.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "image/layer_store.hpp"
#include "image/unpack/layer_unpacker.hpp"
#include "extract_support.hpp"
#include "unpack_support.hpp"

namespace unpack_test {

inline constexpr std::string_view oci_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";

struct layer_blob {
  std::string tar;
  std::string gz;
  ringcri::image::digest blob_digest;
  ringcri::image::digest diff_id;
};

// data/, `files` files named <tag>-<i>, and data/original hard-linked as
// data/link.
inline layer_blob make_layer(const std::string& tag, int files = 20) {
  tar_writer w;
  w.dir("data");
  for (int i = 0; i < files; ++i)
    w.file("data/" + tag + "-" + std::to_string(i), std::string(1000 + i * 100, 'a' + i % 26));
  w.file("data/original", "linked").hard_link("data/link", "data/original");
  w.end();
  std::string gz = gzip(w.str());
  return {w.str(), gz, ringcri::image::sha256_of(bytes_of(gz)),
          ringcri::image::sha256_of(bytes_of(w.str()))};
}

inline ringcri::result<void> pull_into(ringcri::image::layer_store& store, const layer_blob& l,
                                       std::size_t chunk = 16384) {
  using namespace ringcri;
  auto w = store.begin(l.diff_id);
  if (!w) return tl::unexpected(w.error());
  auto u = image::layer_unpacker::create(l.blob_digest, l.gz.size(), oci_gzip, (*w)->sink());
  if (!u) return tl::unexpected(u.error());
  for (std::size_t at = 0; at < l.gz.size(); at += chunk)
    if (auto r = (*u)->feed(bytes_of(std::string_view(l.gz).substr(at, chunk))); !r) return r;
  auto done = (*u)->finish();
  if (!done) return tl::unexpected(done.error());
  if (done->diff_id != l.diff_id) return fail(error_kind::invalid_argument, "diff_id mismatch");
  return store.commit(std::move(*w));
}

inline std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Mount points at or below `dir`, as /proc/self/mountinfo lists them.
inline std::vector<std::string> mounts_under(const fs::path& dir, std::string_view fstype = {}) {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<std::string> out;
  const std::string prefix = dir.string();
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string type;
    tail >> type;
    if (!fstype.empty() && type != fstype) continue;
    if (point == prefix || point.starts_with(prefix + "/")) out.push_back(point);
  }
  return out;
}

// A temp dir whose mounts are detached before it is removed.
struct mount_temp_dir : temp_dir {
  ~mount_temp_dir() {
    auto points = mounts_under(path);
    for (auto it = points.rbegin(); it != points.rend(); ++it)
      ::umount2(it->c_str(), MNT_DETACH);
  }
};

}  // namespace unpack_test
