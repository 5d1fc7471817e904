#pragma once
// registry_client: the OCI distribution API a pull needs — resolve a
// reference to its top manifest or index, fetch manifests by digest, and
// stream blobs — over a registry's endpoints (mirrors first, then the
// registry itself, as hosts.toml lists them), with auth (see auth.hpp).
//
//   registry_client reg(http, [&](std::string_view host) { return endpoints_for(settings, host); });
//   auto top = co_await reg.resolve(ref, creds);
//   if (media_types::is_index(top->media_type)) ... choose_manifest ...
//   auto m = co_await reg.fetch_manifest(ref, chosen.digest, creds);
//   co_await reg.fetch_blob(ref, creds, {.digest = layer.digest, .size = layer.size, .sink = s});
//
// Endpoints. Tags are resolved only on endpoints with the resolve
// capability; manifests by digest and blobs come from those with pull.
// Requests to a mirror carry ?ns=<registry>, as containerd's do. An
// endpoint that fails is left for the next one when the failure is the
// endpoint's (it cannot be reached, times out, answers 404, 429 or 5xx,
// refuses access, or sends content that does not match its digest), never
// when the caller's sink failed, nor when cancelled. The error then names
// every endpoint tried. The credentials of a pull go only to the registry
// itself; mirrors are asked anonymously.
//
// Outages. A request that fails the way an outage does (the connection
// dropped, the TLS handshake failed, HTTP 429 or 5xx) is tried again at
// the same endpoint, up to retry_policy::attempts tries, after a backoff
// or the server's Retry-After (see retry_policy.hpp), before the next
// endpoint is tried; the error then says how many tries were made.
//
// Verification. A manifest's bytes must hash to the digest asked for
// (pulling by digest) and to the Docker-Content-Digest the registry sent;
// the digest returned is always the sha256 of the bytes. A blob fetched
// from offset 0 is hashed as it streams (unless blob_fetch::verify is off)
// and checked against its digest and size at the end (FAILED_PRECONDITION
// on a mismatch, as containerd's content store says it: the sink has then
// seen bad bytes and must discard them). Content that does not match is
// not fetched again: a registry that serves wrong bytes serves them again.
//
// Resuming. A blob download that breaks is tried again (within the same
// tries) from where it broke, with Range: bytes=<delivered>-; the server
// must answer 206 from that offset. A server that ignores Range (answers
// 200) is read from the start and the bytes already delivered are
// skipped, so the sink sees each byte once.
//
// One registry_client per http_client (reactor thread); not thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "image/registry/auth.hpp"
#include "image/registry/http_client.hpp"
#include "image/registry/retry_policy.hpp"
#include "image/source/credentials.hpp"
#include "image/source/reference.hpp"
#include "image/source/registry_hosts.hpp"
#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::image {

// A manifest or index as the registry sent it.
struct fetched_manifest {
  std::string media_type;  // see media_types.hpp
  std::string digest;      // sha256 of bytes
  std::string bytes;
};

// A blob download: which, how big, where its bytes go.
struct blob_fetch {
  std::string digest;        // "sha256:<hex>"
  std::int64_t size = -1;    // from the descriptor; -1 when unknown
  std::uint64_t offset = 0;  // bytes the caller already has (no digest check then)
  // Hash the bytes and check them against `digest` (from offset 0). Off
  // when the consumer hashes them itself anyway (the unpacker does), so
  // each byte is hashed once; the size is checked either way.
  bool verify = true;
  body_sink sink;                       // receives the bytes, on the reactor thread
  std::shared_ptr<transfer_flow> flow;  // backpressure; see transfer_flow.hpp
  reactor::cancellation* cancel = nullptr;
  // Set, when the blob was served, to the base URL of the endpoint that
  // served it (for messages about its bytes). Must outlive the fetch.
  std::string* served_by = nullptr;
};

struct registry_options {
  retry_policy retry;  // for manifests, blobs and tokens
  std::chrono::milliseconds manifest_timeout{60'000};
  std::size_t max_manifest_bytes = 8u << 20;
};

// The endpoints of a registry (reference::registry), in the order to try.
using endpoint_lookup =
    std::function<result<std::vector<registry_endpoint>>(std::string_view registry)>;

class registry_client {
 public:
  registry_client(http_client& http, endpoint_lookup endpoints, registry_options options = {});

  // The manifest or index `ref` names (by digest when it has one, else by
  // tag), as an index, OCI manifest, Docker list or schema 2 manifest.
  reactor::task<result<fetched_manifest>> resolve(const reference& ref, const credentials& creds,
                                                  reactor::cancellation* cancel = nullptr);

  // The manifest (or index) `digest` of ref's repository.
  reactor::task<result<fetched_manifest>> fetch_manifest(const reference& ref,
                                                         std::string_view digest,
                                                         const credentials& creds,
                                                         reactor::cancellation* cancel = nullptr);

  // Streams the blob to blob.sink; returns the bytes delivered (from
  // blob.offset on).
  reactor::task<result<std::uint64_t>> fetch_blob(const reference& ref, const credentials& creds,
                                                  blob_fetch blob);

  registry_auth& auth() { return auth_; }

 private:
  struct endpoint_failure;
  template <class T>
  using attempt = tl::expected<T, endpoint_failure>;
  struct blob_progress;

  reactor::task<result<http_response>> send(const registry_endpoint& ep, const reference& ref,
                                            const credentials& creds, http_request req);
  reactor::task<attempt<fetched_manifest>> manifest_from(const registry_endpoint& ep,
                                                         const reference& ref, std::string object,
                                                         std::string expected_digest,
                                                         const credentials& creds,
                                                         reactor::cancellation* cancel);
  reactor::task<result<fetched_manifest>> manifest_anywhere(
      const reference& ref, std::string object, std::string expected_digest, bool resolving,
      const credentials& creds, reactor::cancellation* cancel);
  reactor::task<attempt<void>> blob_from(const registry_endpoint& ep, const reference& ref,
                                         const credentials& creds, const blob_fetch& blob,
                                         blob_progress& progress);

  http_client& http_;
  endpoint_lookup endpoints_;
  registry_options options_;
  registry_auth auth_;
};

// The TLS settings of an endpoint, as http_client takes them.
tls_options tls_for(const registry_endpoint& ep);

}  // namespace ringcri::image
