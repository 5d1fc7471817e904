// bench_unpack: what each stage of unpacking a layer costs on one core.
//
//   bench_unpack [--size-mb N] [--dir PATH]... [--repeat N]
//
// Generates a synthetic layer (~100 MB tar, see synthetic_layer.hpp),
// compresses it with zlib (gzip -6) and zstd (-3), then times, best of
// --repeat runs:
//   - gzip decompression alone: zlib (streaming), libdeflate (whole
//     buffer, its only mode), isa-l igzip (our streaming decompressor);
//   - zstd decompression alone;
//   - sha256 alone (of the tar);
//   - extraction alone (tar_reader + tar_extractor into a dir under --dir);
//   - the full pipeline (layer_unpacker: blob sha256 + decompress + diff_id
//     sha256 + extract), fed 64 KiB chunks as the network side would, and
//     the syncfs a commit then adds.
// The extraction rows run once per --dir (default /var/tmp, the disk, and
// /dev/shm, tmpfs: the difference is what the file system costs, not the
// code). BENCH_UNPACK_VERBOSE=1 prints every run.
// MB/s is of the uncompressed tar (1 MB = 10^6 bytes), except sha256.
// Extraction writes real files: run as root (chown, devices) on the file
// system the layer store will use.

#include <fcntl.h>
#include <libdeflate.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "base/sys/remove_tree.hpp"
#include "base/sys/sha256.hpp"
#include "base/unique_fd.hpp"
#include "image/unpack/decompressor.hpp"
#include "image/digest.hpp"
#include "image/unpack/layer_unpacker.hpp"
#include "image/unpack/tar_extractor.hpp"
#include "image/unpack/tar_reader.hpp"
#include "synthetic_layer.hpp"

namespace {

using namespace ringcri;
using namespace ringcri::image;
using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::size_t feed_chunk = 64 * 1024;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_unpack: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T must(result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().message());
  return std::move(*r);
}
void must(result<void> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().message());
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string gzip_zlib(const std::string& in) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) die("deflateInit2");
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) die("deflate");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string compress_zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  if (ZSTD_isError(n)) die(std::string("ZSTD_compress: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

// --- the stages ----------------------------------------------------------

std::uint64_t inflate_zlib(const std::string& gz) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) die("inflateInit2");
  std::vector<unsigned char> out(128 * 1024);
  std::uint64_t total = 0;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  for (;;) {
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&z, Z_NO_FLUSH);
    total += out.size() - z.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK) die("inflate");
  }
  inflateEnd(&z);
  return total;
}

std::uint64_t inflate_libdeflate(const std::string& gz, std::vector<char>& out) {
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  std::size_t n = 0;
  if (libdeflate_gzip_decompress(d, gz.data(), gz.size(), out.data(), out.size(), &n) !=
      LIBDEFLATE_SUCCESS)
    die("libdeflate_gzip_decompress");
  libdeflate_free_decompressor(d);
  return n;
}

std::uint64_t decompress_ours(compression c, const std::string& blob) {
  auto d = make_decompressor(c);
  std::uint64_t total = 0;
  auto sink = [&](std::span<const std::byte> piece) -> result<void> {
    total += piece.size();
    return {};
  };
  for (std::size_t at = 0; at < blob.size(); at += feed_chunk)
    must(d->feed(bytes_of(blob).subspan(at, std::min(feed_chunk, blob.size() - at)), sink),
         "decompress");
  must(d->finish(sink), "decompress finish");
  return total;
}

std::uint64_t sha256_only(const std::string& data) {
  sys::sha256 h;
  for (std::size_t at = 0; at < data.size(); at += feed_chunk)
    h.update(bytes_of(data).subspan(at, std::min(feed_chunk, data.size() - at)));
  (void)h.finish();
  return data.size();
}

struct fresh_dir {
  fs::path parent;
  std::string name;
  unique_fd fd;
  fresh_dir(const fs::path& base, int n) : parent(base), name("bench-unpack-" + std::to_string(n)) {
    unique_fd p(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!p) die("open " + parent.string());
    must(sys::remove_tree(p.get(), name), "clean");
    if (::mkdir((parent / name).c_str(), 0755) != 0) die("mkdir " + (parent / name).string());
    fd.reset(::open((parent / name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    // Start each run with the previous one's writes and deletes on disk,
    // so runs measure the same thing rather than the journal's backlog.
    ::syncfs(fd.get());
  }
  ~fresh_dir() {
    fd.reset();
    unique_fd p(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    (void)sys::remove_tree(p.get(), name);
  }
};

std::uint64_t extract_only(const std::string& tar, int root_fd) {
  tar_extractor x(root_fd);
  tar_reader r(x);
  for (std::size_t at = 0; at < tar.size(); at += 128 * 1024)
    must(r.feed(bytes_of(tar).subspan(at, std::min<std::size_t>(128 * 1024, tar.size() - at))),
         "extract");
  must(r.finish(), "tar finish");
  must(x.finish(), "extract finish");
  return tar.size();
}

layer_unpack_result pipeline(const std::string& blob, const digest& d, std::string_view media_type,
                             int root_fd) {
  tar_extractor into(root_fd);
  auto u = must(layer_unpacker::create(d, blob.size(), media_type, into), "create");
  for (std::size_t at = 0; at < blob.size(); at += feed_chunk)
    must(u->feed(bytes_of(blob).subspan(at, std::min(feed_chunk, blob.size() - at))), "feed");
  return must(u->finish(), "finish");
}

// Best of `repeat` runs of fn (which may set up untimed state first via
// `prepare`).
double best_seconds(int repeat, const std::function<void()>& prepare,
                    const std::function<void()>& fn, const std::function<void()>& cleanup = {}) {
  double best = 1e30;
  for (int i = 0; i < repeat; ++i) {
    if (prepare) prepare();
    auto t0 = clock_type::now();
    fn();
    double s = std::chrono::duration<double>(clock_type::now() - t0).count();
    if (std::getenv("BENCH_UNPACK_VERBOSE")) std::fprintf(stderr, "  run %d: %.3f s\n", i, s);
    if (cleanup) cleanup();
    best = std::min(best, s);
  }
  return best;
}

void row(const char* stage, double mb, double seconds, const std::string& note = {}) {
  std::printf("| %-40s | %8.3f | %9.1f | %s\n", stage, seconds, mb / seconds, note.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t size_mb = 100;
  std::vector<fs::path> dirs;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--size-mb" && i + 1 < argc)
      size_mb = std::stoul(argv[++i]);
    else if (a == "--dir" && i + 1 < argc)
      dirs.emplace_back(argv[++i]);
    else if (a == "--repeat" && i + 1 < argc)
      repeat = std::stoi(argv[++i]);
    else
      die("usage: bench_unpack [--size-mb N] [--dir PATH]... [--repeat N]");
  }
  if (dirs.empty()) dirs = {"/var/tmp", "/dev/shm"};
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_unpack: SKIP: extraction needs root\n");
    return 77;
  }

  auto layer = ringcri::bench::make_synthetic_layer(size_mb * 1'000'000);
  const std::string& tar = layer.tar;
  std::string gz = gzip_zlib(tar);
  std::string zs = compress_zstd(tar);
  digest gz_digest = sha256_of(bytes_of(gz));
  digest zs_digest = sha256_of(bytes_of(zs));
  double mb = static_cast<double>(tar.size()) / 1e6;

  std::printf(
      "layer: %.1f MB tar, %zu files, %zu dirs, %zu symlinks; gzip -6 %.1f MB (%.2fx), "
      "zstd -3 %.1f MB (%.2fx); best of %d\n\n",
      mb, layer.files, layer.directories, layer.symlinks, gz.size() / 1e6,
      static_cast<double>(tar.size()) / gz.size(), zs.size() / 1e6,
      static_cast<double>(tar.size()) / zs.size(), repeat);
  std::printf("| %-40s | %8s | %9s | %s\n", "stage (one core)", "seconds", "MB/s", "note");
  std::printf("|%s|%s|%s|\n", std::string(42, '-').c_str(), std::string(10, '-').c_str(),
              std::string(11, '-').c_str());

  std::vector<char> flat(tar.size());
  row("gzip: zlib inflate (streaming)", mb, best_seconds(repeat, {}, [&] {
        if (inflate_zlib(gz) != tar.size()) die("zlib size");
      }));
  row("gzip: libdeflate (whole buffer)", mb,
      best_seconds(repeat, {},
                   [&] {
                     if (inflate_libdeflate(gz, flat) != tar.size()) die("libdeflate size");
                   }),
      "needs the whole blob and output in memory");
  row("gzip: isa-l igzip (ours, streaming)", mb, best_seconds(repeat, {}, [&] {
        if (decompress_ours(compression::gzip, gz) != tar.size()) die("isa-l size");
      }));
  row("zstd: libzstd (ours, streaming)", mb, best_seconds(repeat, {}, [&] {
        if (decompress_ours(compression::zstd, zs) != tar.size()) die("zstd size");
      }));
  row("sha256 (OpenSSL EVP)", mb, best_seconds(repeat, {}, [&] { sha256_only(tar); }));

  // Extraction, on each file system asked for: the disk the layer store
  // lives on, and tmpfs, which shows what the code costs without it.
  for (const auto& dir : dirs) {
    std::unique_ptr<fresh_dir> target;
    int n = 0;
    auto prepare = [&] { target = std::make_unique<fresh_dir>(dir, n++); };
    auto cleanup = [&] { target.reset(); };
    std::string where = " [" + dir.string() + "]";
    double extract_s = best_seconds(
        repeat, prepare, [&] { extract_only(tar, target->fd.get()); }, cleanup);
    char note[160];
    std::snprintf(note, sizeof note, "%.0f files/s, no fsync", layer.files / extract_s);
    row(("extract alone" + where).c_str(), mb, extract_s, note);

    for (auto [label, blob, d, type] :
         std::vector<std::tuple<std::string, const std::string*, const digest*, std::string_view>>{
             {"pipeline gzip" + where, &gz, &gz_digest,
              "application/vnd.oci.image.layer.v1.tar+gzip"},
             {"pipeline zstd" + where, &zs, &zs_digest,
              "application/vnd.oci.image.layer.v1.tar+zstd"}}) {
      // Best run, with that run's own stage times.
      std::optional<layer_unpack_result> best;
      double best_s = 1e30, sync_s = 0;
      for (int i = 0; i < repeat; ++i) {
        prepare();
        auto t0 = clock_type::now();
        auto r = pipeline(*blob, *d, type, target->fd.get());
        double s = std::chrono::duration<double>(clock_type::now() - t0).count();
        // What commit adds to make it durable: one syncfs.
        auto t1 = clock_type::now();
        ::syncfs(target->fd.get());
        double synced = std::chrono::duration<double>(clock_type::now() - t1).count();
        if (std::getenv("BENCH_UNPACK_VERBOSE"))
          std::fprintf(stderr, "  run %d: %.3f s (+ syncfs %.3f s)\n", i, s, synced);
        cleanup();
        if (s < best_s) {
          best_s = s;
          sync_s = synced;
          best = std::move(r);
        }
      }
      std::snprintf(note, sizeof note,
                    "sha256 %.2f s, decompress %.2f s, extract %.2f s; then syncfs %.2f s",
                    best->digest_time.count() / 1e9, best->decompress_time.count() / 1e9,
                    best->extract_time.count() / 1e9, sync_s);
      row(label.c_str(), mb, best_s, note);
    }
  }
  return 0;
}
