#include "image/registry/tls_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/stat.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <cstring>

#include "image/registry/http_client.hpp"
#include "reactor/ops.hpp"

namespace ringcri::image::registry_detail {

namespace io = ringcri::reactor;

struct ca_bundle {
  std::vector<X509*> certs;
  ca_bundle() = default;
  ca_bundle(const ca_bundle&) = delete;
  ca_bundle& operator=(const ca_bundle&) = delete;
  ~ca_bundle() {
    for (X509* c : certs) X509_free(c);
  }
};

namespace {

constexpr std::size_t max_tls_file = 1u << 20;

result<std::shared_ptr<const ca_bundle>> parse_pem_certs(const std::string& pem,
                                                         const std::filesystem::path& path) {
  auto bundle = std::make_shared<ca_bundle>();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return fail(error_kind::resource_exhausted, "BIO_new_mem_buf");
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    bundle->certs.push_back(cert);
  }
  BIO_free(bio);
  ERR_clear_error();  // the loop ends on a "no start line" error
  if (bundle->certs.empty()) {
    return fail(error_kind::failed_precondition,
                fmt::format("CA file {}: no PEM certificate in it", path.string()));
  }
  return bundle;
}

io::task<result<std::string>> read_small_file(std::string path) {
  auto fd = co_await io::openat(AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (!fd) {
    co_return fail(error_kind::failed_precondition,
                   fmt::format("open {}: {}", path, fd.error().message()));
  }
  std::string out;
  std::array<std::byte, 16384> buf;
  std::uint64_t offset = 0;
  for (;;) {
    auto n = co_await io::read(*fd, buf, offset);
    if (!n) {
      co_await io::close(*fd);
      co_return fail(error_kind::failed_precondition,
                     fmt::format("read {}: {}", path, n.error().message()));
    }
    if (*n == 0) break;
    out.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(*n));
    offset += static_cast<std::uint64_t>(*n);
    if (out.size() > max_tls_file) {
      co_await io::close(*fd);
      co_return fail(error_kind::failed_precondition,
                     fmt::format("{}: larger than {} bytes", path, max_tls_file));
    }
  }
  co_await io::close(*fd);
  co_return out;
}

}  // namespace

io::task<result<tls_file_cache::entry*>> tls_file_cache::fresh(const std::filesystem::path& path) {
  struct statx st {};
  std::string p = path.string();
  auto rc = co_await io::statx(AT_FDCWD, p.c_str(), 0, STATX_SIZE | STATX_MTIME, &st);
  if (!rc) {
    co_return fail(error_kind::failed_precondition,
                   fmt::format("stat {}: {}", p, rc.error().message()));
  }
  auto size = static_cast<std::int64_t>(st.stx_size);
  std::int64_t mtime = st.stx_mtime.tv_sec * 1'000'000'000LL + st.stx_mtime.tv_nsec;
  entry& e = files[path];
  if (e.bytes && e.size == size && e.mtime_ns == mtime) co_return &e;
  auto bytes = co_await read_small_file(p);
  if (!bytes) co_return tl::unexpected(bytes.error());
  // The map never erases, so `e` is still where it was across the awaits.
  e.size = size;
  e.mtime_ns = mtime;
  e.bytes = std::make_shared<const std::string>(std::move(*bytes));
  e.cas.reset();
  co_return &e;
}

io::task<result<tls_material>> tls_file_cache::load(const tls_options& tls) {
  tls_material m;
  for (const auto& path : tls.ca_files) {
    auto e = co_await fresh(path);
    if (!e) co_return tl::unexpected(e.error());
    if (!(*e)->cas) {
      auto parsed = parse_pem_certs(*(*e)->bytes, path);
      if (!parsed) co_return tl::unexpected(parsed.error());
      (*e)->cas = *parsed;
    }
    m.cas.push_back((*e)->cas);
  }
  if (tls.client_cert) {
    auto cert = co_await fresh(tls.client_cert->first);
    if (!cert) co_return tl::unexpected(cert.error());
    m.client_cert = (*cert)->bytes;
    auto key = co_await fresh(tls.client_cert->second);
    if (!key) co_return tl::unexpected(key.error());
    m.client_key = (*key)->bytes;
  }
  co_return m;
}

CURLcode add_ca_certs(CURL*, void* ssl_ctx, void* material) {
  auto* m = static_cast<const tls_material*>(material);
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  for (const auto& bundle : m->cas) {
    for (X509* cert : bundle->certs) X509_STORE_add_cert(store, cert);  // takes a reference
  }
  ERR_clear_error();  // a certificate already in the store is an error, and harmless
  return CURLE_OK;
}

}  // namespace ringcri::image::registry_detail
