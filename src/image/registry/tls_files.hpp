#pragma once
// The files an endpoint's TLS settings name (extra CA certificates, a
// client certificate and key), read through the reactor and kept by the
// http_client, re-read when a file changes (size or mtime). Internal to
// http_client.

#include <curl/curl.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "reactor/task.hpp"

namespace ringcri::image {
struct tls_options;
}

namespace ringcri::image::registry_detail {

// The certificates of one PEM file (OpenSSL objects; defined in the .cpp).
struct ca_bundle;

// What one request needs, shared with the cache so a reload never pulls
// it from under a transfer.
struct tls_material {
  std::vector<std::shared_ptr<const ca_bundle>> cas;
  std::shared_ptr<const std::string> client_cert;  // PEM
  std::shared_ptr<const std::string> client_key;   // PEM
};

struct tls_file_cache {
  struct entry {
    std::int64_t size = -1;
    std::int64_t mtime_ns = -1;
    std::shared_ptr<const std::string> bytes;
    std::shared_ptr<const ca_bundle> cas;  // when read as a CA file
  };
  std::map<std::filesystem::path, entry> files;

  // FAILED_PRECONDITION naming the file when one cannot be read or holds
  // no certificate.
  reactor::task<result<tls_material>> load(const tls_options& tls);

 private:
  reactor::task<result<entry*>> fresh(const std::filesystem::path& path);
};

// CURLOPT_SSL_CTX_FUNCTION: adds a tls_material's CA certificates to the
// store curl filled from the system bundle.
CURLcode add_ca_certs(CURL* easy, void* ssl_ctx, void* material);

}  // namespace ringcri::image::registry_detail
